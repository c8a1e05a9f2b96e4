// Uploading a file to a room before the send that carries it: POST /api/rooms/:room/files with the file's
// bytes as the body, through XMLHttpRequest, the one browser API that reports upload progress.
import type { ErrorResponse, FileAttachment, UploadResponse } from '../../server/protocol';

export interface Upload {
  /** Resolves with the stored file, or rejects with an Error whose message says why (the server's words). */
  done: Promise<FileAttachment>;
  abort(): void;
}

/** Starts uploading `file` to `room`; `progress` is called with the share sent so far, from 0 to 1. */
export function uploadFile(room: string, file: File, progress: (share: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const done = (async () => {
    const query = new URLSearchParams({ name: file.name || 'file' });
    const size = await imageSize(file);
    if (size) {
      query.set('width', String(size.width));
      query.set('height', String(size.height));
    }
    return new Promise<FileAttachment>((resolve, reject) => {
      xhr.open('POST', `/api/rooms/${encodeURIComponent(room)}/files?${query}`);
      // Always bytes: the server reads the type from them, and a JSON file must not meet the JSON parser.
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable && event.total > 0) progress(event.loaded / event.total);
      };
      xhr.onload = () => {
        const body = parse(xhr.responseText);
        if (xhr.status === 201 && typeof body === 'object' && body !== null && 'file' in body) resolve((body as UploadResponse).file);
        else reject(new Error((body as Partial<ErrorResponse> | undefined)?.error?.message ?? `the server answered ${xhr.status}`));
      };
      xhr.onerror = () => reject(new Error('the server could not be reached'));
      xhr.onabort = () => reject(new Error('cancelled'));
      xhr.send(file);
    });
  })();
  return { done, abort: () => xhr.abort() };
}

/** An image's size as the browser decodes it, so that its thumbnail keeps its place while loading; undefined for other files. */
async function imageSize(file: File): Promise<{ width: number; height: number } | undefined> {
  if (!file.type.startsWith('image/') || typeof createImageBitmap !== 'function') return undefined;
  try {
    const bitmap = await createImageBitmap(file);
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  } catch {
    return undefined; // not an image the browser can decode: the server will not show it as one either
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

