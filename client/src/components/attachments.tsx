// Files being attached to the message in the composer: picked with the button, pasted, or dropped anywhere
// on the page. They upload a few at a time, each with a progress bar; the message can go once all are up.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { FileAttachment } from '../../../server/protocol';
import { formatBytes } from '../../../server/format';
import { uploadFile } from '../uploads';

interface PendingFile {
  key: number;
  name: string;
  size: number;
  /** 0 to 1 while uploading. */
  progress: number;
  state: 'queued' | 'uploading' | 'ready' | 'failed';
  /** The file to upload, while it waits its turn. */
  source?: File;
  file?: FileAttachment;
  error?: string;
  /** Stops the upload, while it runs. */
  abort?: () => void;
}

/** Uploads under way at once from one composer: the server takes 3 per person at once (server/files/files.ts). */
const UPLOADS_AT_ONCE = 2;

export interface Attachments {
  pending: readonly PendingFile[];
  /** The uploaded files, in the order they were added. */
  ready: FileAttachment[];
  /** Whether any file is still uploading (the message waits for it). */
  uploading: boolean;
  /** Whether a file is being dragged over the page. */
  dragging: boolean;
  add(files: Iterable<File>): void;
  remove(key: number): void;
  /** Empties the tray once the message went (its files go with it). */
  clear(): void;
  /** Takes the files of a paste, if it holds any. */
  onPaste(event: ClipboardEvent): void;
}

let nextKey = 1;

export function useAttachments(room: string): Attachments {
  const [pending, setPending] = useState<PendingFile[]>([]);
  const [dragging, setDragging] = useState(false);
  const update = (key: number, change: Partial<PendingFile>) => setPending((list) => list.map((item) => (item.key === key ? { ...item, ...change } : item)));

  const add = (files: Iterable<File>) => {
    const added = Array.from(files, (source): PendingFile => ({ key: nextKey++, name: source.name || 'file', size: source.size, progress: 0, state: 'queued', source }));
    if (added.length > 0) setPending((list) => [...list, ...added]);
  };

  // Files start uploading in the order they came, UPLOADS_AT_ONCE at a time.
  useEffect(() => {
    const running = pending.filter((item) => item.state === 'uploading').length;
    const next = pending.filter((item) => item.state === 'queued').slice(0, Math.max(0, UPLOADS_AT_ONCE - running));
    for (const { key, source } of next) {
      if (!source) continue;
      const upload = uploadFile(room, source, (progress) => update(key, { progress }));
      update(key, { state: 'uploading', source: undefined, abort: upload.abort });
      upload.done.then(
        (stored) => update(key, { state: 'ready', progress: 1, file: stored, abort: undefined }),
        (error: unknown) => update(key, { state: 'failed', error: error instanceof Error ? error.message : String(error), abort: undefined }),
      );
    }
  }, [pending]);
  const addRef = useRef(add);
  addRef.current = add;

  // Another room, another message: what was attached here is left unsent (the server lets it expire), and
  // what was still uploading is stopped.
  const current = useRef(pending);
  current.current = pending;
  useEffect(
    () => () => {
      for (const item of current.current) item.abort?.();
      setPending([]);
    },
    [room],
  );

  // A file dropped anywhere on the page is attached; the composer shows where it will go while it is dragged.
  useEffect(() => {
    let depth = 0;
    const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const enter = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      depth++;
      setDragging(true);
    };
    const leave = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (event: DragEvent) => {
      if (carriesFiles(event)) event.preventDefault(); // allows the drop
    };
    const drop = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault(); // the browser would open the file in place of the chat
      depth = 0;
      setDragging(false);
      addRef.current(Array.from(event.dataTransfer?.files ?? []));
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);

  return {
    pending,
    ready: pending.flatMap((item) => (item.state === 'ready' && item.file ? [item.file] : [])),
    uploading: pending.some((item) => item.state === 'uploading' || item.state === 'queued'),
    dragging,
    add,
    remove: (key) => {
      pending.find((item) => item.key === key)?.abort?.();
      setPending((list) => list.filter((item) => item.key !== key));
    },
    clear: () => setPending([]),
    onPaste: (event) => {
      const files = Array.from(event.clipboardData?.files ?? []);
      if (files.length === 0) return; // text: the field takes it
      event.preventDefault();
      add(files);
    },
  };
}

/** The button that opens the file picker. */
export function AttachButton({ onFiles }: { onFiles: (files: File[]) => void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" class="attach-button" onClick={() => input.current?.click()} aria-label="Attach files" title="Attach files (or paste, or drop them here)">
        {/* Drawn here rather than an emoji, which not every system has a font for. */}
        <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
          <path d="M21 11.5 12.5 20a5.5 5.5 0 0 1-7.8-7.8l8.5-8.5a3.7 3.7 0 0 1 5.2 5.2l-8.5 8.5a1.8 1.8 0 0 1-2.6-2.6L15 7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
        </svg>
      </button>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        onChange={(e) => {
          onFiles(Array.from(e.currentTarget.files ?? []));
          e.currentTarget.value = ''; // the same file may be picked again
        }}
      />
    </>
  );
}

/** The files attached so far: each with its progress while it uploads, why it failed, and a way to take it off. */
export function AttachmentTray({ attachments }: { attachments: Attachments }) {
  if (attachments.pending.length === 0) return null;
  return (
    <ul class="attachment-tray" aria-label="Attached files">
      {attachments.pending.map((item) => (
        <li key={item.key} class={`attachment ${item.state}`}>
          <span class="file-name" dir="auto">
            {item.name}
          </span>
          <span class="file-size">{formatBytes(item.size)}</span>
          {item.state === 'uploading' && <progress max={1} value={item.progress} aria-label={`Uploading ${item.name}`} />}
          {item.state === 'queued' && <span class="file-size">waiting…</span>}
          {item.state === 'failed' && (
            <span class="attachment-error" role="alert">
              {item.error}
            </span>
          )}
          <button type="button" class="link-button" onClick={() => attachments.remove(item.key)} aria-label={`Remove ${item.name}`}>
            ✕
          </button>
        </li>
      ))}
    </ul>
  );
}
