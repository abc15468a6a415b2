/**
 * The demo page's script, bundled by the demo server (src/local/demo-bundle.ts) with the typed client: the
 * page has no upload code of its own. Several files at once, signed together in one batch request (`uploadFiles`),
 * each with a thumbnail, its size, its progress,
 * then the verifier's verdict from `POST /uploads/status` (through `waitUntilVerified`), the image from the
 * CDN and its queue message. The "prepare" toggle runs `prepareImage` first and shows what it removed.
 */
import { exifSummary, humanSize } from './exif';
import { prepareImage, UploadError, UploadFileOutcome, uploadFiles, UploadProgress } from '../../src/client';

interface DemoConfig {
  readonly signerUrl: string;
  readonly s3Endpoint: string;
  readonly cdnUrl: string;
  readonly queueUrl: string;
  readonly rejectionQueueUrl?: string;
  readonly deadLetterQueueUrl: string;
  readonly bucket: string;
  readonly allowedContentTypes: readonly string[];
  readonly maxFileSize: number;
  readonly identityHeader: string;
}

interface QueueMessage { readonly body: { Records?: Array<{ eventName?: string; s3: { object: { key: string; size?: number } } }> } }

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let config: DemoConfig;

/** Queue messages by key, and the cards waiting for one. */
const messages = new Map<string, QueueMessage>();
const waiting = new Map<string, (m: QueueMessage) => void>();

function setStatus(state: string, text: string): void {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  e.textContent = text;
  return e;
}

/** S3 event keys are form-URL-encoded ("a b+c" arrives as "a+b%2Bc"). */
function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** One long poll after another: the page plays the queue's consumer (the demo server receives and deletes). */
async function pollQueue(): Promise<never> {
  for (;;) {
    try {
      const res = await fetch('/api/messages?wait=10');
      const { messages: batch } = (await res.json()) as { messages: QueueMessage[] };
      for (const m of batch) {
        for (const r of m.body.Records ?? []) {
          const key = decodeEventKey(r.s3.object.key);
          messages.set(key, m);
          waiting.get(key)?.(m);
        }
      }
    } catch {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function messageFor(key: string): Promise<QueueMessage> {
  const known = messages.get(key);
  return known ? Promise.resolve(known) : new Promise((resolve) => waiting.set(key, resolve));
}

async function loadConfig(): Promise<void> {
  const res = await fetch('/config.json');
  if (!res.ok) throw new Error(`The demo server is not ready (${res.status})`);
  config = (await res.json()) as DemoConfig;
  $<HTMLInputElement>('file').accept = config.allowedContentTypes.join(',');
  const rows: Record<string, string> = {
    'signer': `${config.signerUrl}/uploads`,
    'status': `${config.signerUrl}/uploads/status`,
    'S3 (path-style)': `${config.s3Endpoint}/${config.bucket}`,
    'CDN': config.cdnUrl,
    'queue': config.queueUrl,
    'rejection queue': config.rejectionQueueUrl ?? '(verifier off)',
    'dead-letter queue': config.deadLetterQueueUrl,
    'allowed types': config.allowedContentTypes.join(', '),
    'max size': humanSize(config.maxFileSize),
  };
  $('endpoints').replaceChildren(...Object.entries(rows).flatMap(([k, v]) => [el('dt', '', k), el('dd', '', v)]));
  setStatus('ready', 'Ready: pick or drop images.');
}

/** A file's card once it is prepared: what to upload, and how the card follows it. */
interface Card {
  /** Undefined when preparing it failed (the card shows why; nothing is uploaded). */
  readonly file?: File;
  readonly onProgress: (progress: UploadProgress) => void;
  readonly done: (outcome: UploadFileOutcome) => Promise<void>;
}

async function prepareCard(original: File): Promise<Card> {
  const card = el('li', 'upload');
  card.dataset.state = 'preparing';
  const thumb = el('img', 'thumb');
  thumb.alt = '';
  const thumbBox = el('div', 'thumbbox');
  thumbBox.append(thumb);
  thumb.src = URL.createObjectURL(original);
  thumb.onerror = () => thumb.classList.add('broken');
  const name = el('div', 'name', original.name);
  const size = el('div', 'size', humanSize(original.size));
  const bar = el('progress', 'bar');
  bar.max = 100;
  bar.value = 0;
  const percent = el('span', 'percent', '0%');
  const state = el('div', 'state', 'preparing');
  const prep = el('div', 'prep');
  const served = el('img', 'served');
  served.alt = 'served by the CDN route';
  const servedBox = el('figure', 'servedbox');
  servedBox.append(served, el('figcaption', '', 'served by the CDN'));
  servedBox.hidden = true;
  // The queue message: a one-line summary, the notification itself on demand.
  const queue = el('details', 'queue');
  const summary = el('summary', '', 'queue message');
  const message = el('pre', 'message');
  queue.append(summary, message);
  queue.hidden = true;
  const info = el('div', 'info');
  info.append(name, size, bar, percent, state, prep);
  card.append(thumbBox, info, servedBox, queue);
  $('uploads').append(card);
  const show = (s: string, text: string) => {
    card.dataset.state = s;
    state.textContent = text;
  };

  try {
    let file: File = original;
    if ($<HTMLInputElement>('prepare').checked) {
      const before = exifSummary(new Uint8Array(await original.arrayBuffer()));
      try {
        file = await prepareImage(original, { stripMetadata: true });
        const after = exifSummary(new Uint8Array(await file.arrayBuffer()));
        prep.dataset.gpsBefore = String(before.gps);
        prep.dataset.gpsAfter = String(after.gps);
        prep.textContent = `prepareImage: ${humanSize(original.size)} → ${humanSize(file.size)}; `
          + `before: ${before.text}; after: ${after.text}`;
      } catch (err) {
        prep.textContent = `prepareImage: ${(err as Error).message} — sent as it is`;
      }
    }
    show('uploading', 'uploading');
    return { file, onProgress, done };
  } catch (err) {
    showError(err as UploadError);
    return { onProgress, done: async () => undefined };
  }

  function onProgress({ uploadedBytes, totalBytes }: UploadProgress): void {
    const p = totalBytes ? Math.floor((uploadedBytes / totalBytes) * 100) : 100;
    bar.value = p;
    percent.textContent = `${p}%`;
    if (uploadedBytes === totalBytes) show('verifying', 'stored; waiting for the verifier…');
  }

  function showError(e: Partial<UploadError>): void {
    show(e.code === 'UPLOAD_REJECTED' ? 'rejected' : 'error', e.code === 'UPLOAD_REJECTED' ? `rejected: ${e.message}` : `${e.code ?? 'error'}: ${e.message}`);
  }

  async function done(outcome: UploadFileOutcome): Promise<void> {
    if (!outcome.ok) return showError(outcome.error);
    const result = outcome.result;
    show('verified', `verified: ${result.key}`);
    card.dataset.key = result.key;
    served.src = result.publicUrl;
    servedBox.hidden = false;
    await served.decode().catch(() => undefined);
    try {
      const { body } = await messageFor(result.key);
      const record = body.Records?.[0];
      summary.textContent = `queue message: ${record?.eventName ?? 'S3 event'}, ${humanSize(record?.s3.object.size ?? 0)} (show the notification)`;
      message.textContent = JSON.stringify(body, null, 2);
      queue.hidden = false;
      card.dataset.state = 'done';
    } catch (err) {
      showError(err as Error);
    }
  }
}

/** The status line: how many files are verified, rejected, failed or still under way. */
function summarize(): void {
  const cards = Array.from(document.querySelectorAll<HTMLElement>('#uploads .upload'));
  const count = (...states: string[]) => cards.filter((c) => states.includes(c.dataset.state ?? '')).length;
  const parts = [[count('done', 'verified'), 'verified'], [count('rejected'), 'rejected'], [count('error'), 'failed']] as const;
  const busy = cards.length - parts.reduce((n, [c]) => n + c, 0);
  const text = parts.filter(([c]) => c > 0).map(([c, label]) => `${c} ${label}`).concat(busy > 0 ? [`${busy} under way`] : []);
  setStatus('ready', `${cards.length} file${cards.length === 1 ? '' : 's'}: ${text.join(', ')}. Drop more at any time.`);
}

/** Prepares every card, signs all files in one batch request, then each card follows its file. */
async function uploadAll(files: FileList | null | undefined): Promise<void> {
  const cards = (await Promise.all(Array.from(files ?? []).map(prepareCard))).filter((c) => c.file !== undefined);
  summarize();
  if (cards.length === 0) return;
  const outcomes = await uploadFiles(cards.map((c) => c.file!), {
    signerUrl: config.signerUrl,
    getAuthHeaders: () => ({ [config.identityHeader]: $<HTMLInputElement>('user').value }),
    onProgress: (index, progress) => cards[index].onProgress(progress),
    waitUntilVerified: true,
  });
  await Promise.all(outcomes.map((outcome, i) => cards[i].done(outcome).finally(summarize)));
}

$<HTMLInputElement>('file').addEventListener('change', (e) => void uploadAll((e.target as HTMLInputElement).files));
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  void uploadAll(e.dataTransfer?.files);
});

loadConfig().then(() => void pollQueue(), (err: Error) => setStatus('error', err.message));
