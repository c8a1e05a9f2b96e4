// Uploading a file to a room (its bytes as the body), and fetching one. A file is served so that nothing in
// it can run on Parley's origin: its sniffed type (never HTML, SVG or any script-capable type), nosniff,
// a sandboxing Content-Security-Policy, and as a download unless it is an image shown in the page.
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { validate } from '../errors';
import { openFile, storeUpload } from '../files/files';
import type { StoredFile } from '../files/store';
import { fileUrl, INLINE_IMAGE_TYPES, type UploadResponse } from '../protocol';
import { RoomName, UploadQuery } from '../validation';
import type { HttpHandler } from './http';

/** POST /api/rooms/:room/files?name=N[&width=W&height=H]: stores the body as a file (201) for a send to name. */
export const uploadFile: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  const query = validate(UploadQuery, req.query);
  const session = await ctx.accounts.sessionOf(req);
  const length = req.headers['content-length'];
  const file = await storeUpload(ctx, { session, ip: ctx.limits.clientIp(req) }, { room, ...query, ...(length === undefined ? {} : { declaredLength: Number(length) }), body: req });
  res.status(201).json({ file, url: fileUrl(file) } satisfies UploadResponse);
};

/** GET /files/:id/:name: the file's bytes, to those who may read its room (the name in the path is for people). */
export const serveFile: HttpHandler = async (ctx, req, res) => {
  const session = await ctx.accounts.sessionOf(req);
  const { file, body } = await openFile(ctx, session, String(req.params.id));
  setFileHeaders(res, file);
  try {
    await pipeline(body, res);
  } catch {
    // The reader went away, or the store failed mid-file: the answer is cut, which the reader sees.
    body.destroy();
    res.destroy();
  }
};

/** A file is never a document that can do anything: no script, no subresource, an opaque origin. */
const FILE_POLICY = "sandbox; default-src 'none'";
/**
 * An image opened on its own is shown by the browser's image viewer, whose page styles itself inline
 * (Chromium reports a violation otherwise). The image is one of INLINE_IMAGE_TYPES, read from its bytes.
 */
const IMAGE_POLICY = `${FILE_POLICY}; style-src 'unsafe-inline'`;

/**
 * The headers that make a file inert: its sniffed type with nosniff (a browser never guesses HTML), a CSP
 * that sandboxes it (no script, no same origin, even if opened on its own), and a download unless it is an
 * image the page shows. Private cache: the file is the same for its whole life, but only for room members.
 */
function setFileHeaders(res: ServerResponse, file: StoredFile): void {
  const inline = INLINE_IMAGE_TYPES.has(file.type);
  res.setHeader('Content-Type', file.type === 'text/plain' ? 'text/plain; charset=utf-8' : file.type);
  res.setHeader('Content-Length', file.size);
  res.setHeader('Content-Disposition', contentDisposition(inline ? 'inline' : 'attachment', file.name));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', inline ? IMAGE_POLICY : FILE_POLICY);
  res.setHeader('Cache-Control', 'private, max-age=86400');
}

/** RFC 6266: an ASCII fallback name, and the real one in RFC 5987 encoding. */
function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
