// The files a message carries: images as thumbnails (the original, scaled down by CSS) that open full size,
// other files as a link with their name and size that downloads them.
import { fileUrl, INLINE_IMAGE_TYPES, type FileAttachment } from '../../../server/protocol';
import { formatBytes } from '../../../server/format';

export function MessageFiles({ files }: { files: readonly FileAttachment[] }) {
  return (
    <ul class="message-files" aria-label="Files">
      {files.map((file) => (
        <li key={file.id}>{INLINE_IMAGE_TYPES.has(file.type) ? <ImageThumb file={file} /> : <FileLink file={file} />}</li>
      ))}
    </ul>
  );
}

function ImageThumb({ file }: { file: FileAttachment }) {
  const url = fileUrl(file);
  return (
    <a class="thumb-link" href={url} target="_blank" rel="noopener" title={`${file.name} (${formatBytes(file.size)}): open full size`}>
      {/* width and height reserve the thumbnail's place before it loads; CSS scales it down. */}
      <img class="thumb" src={url} alt={file.name} loading="lazy" width={file.width} height={file.height} />
    </a>
  );
}

function FileLink({ file }: { file: FileAttachment }) {
  return (
    <a class="file-link" href={fileUrl(file)} download={file.name}>
      <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
        <path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" />
      </svg>
      <span class="file-name" dir="auto">
        {file.name}
      </span>
      <span class="file-size">{formatBytes(file.size)}</span>
    </a>
  );
}
