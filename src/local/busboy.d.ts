/**
 * Types for the part of `busboy` 1.x (untyped CommonJS) used by the S3 stand-in's POST policy checks
 * and the benchmark's traditional upload server. Remove this file if `@types/busboy` is ever added.
 */
declare module 'busboy' {
  import type { IncomingHttpHeaders } from 'node:http';
  import type { Readable, Writable } from 'node:stream';

  namespace busboy {
    interface Limits {
      readonly fileSize?: number;
      readonly files?: number;
      readonly fields?: number;
      readonly parts?: number;
    }
    interface Config {
      readonly headers: IncomingHttpHeaders;
      readonly limits?: Limits;
    }
    interface FileInfo {
      readonly filename: string;
      readonly encoding: string;
      readonly mimeType: string;
    }
    interface Busboy extends Writable {
      on(event: 'file', listener: (name: string, stream: Readable & { truncated?: boolean }, info: FileInfo) => void): this;
      on(event: 'field', listener: (name: string, value: string) => void): this;
      on(event: 'close', listener: () => void): this;
      on(event: 'fieldsLimit' | 'filesLimit' | 'partsLimit', listener: () => void): this;
      on(event: 'error', listener: (err: unknown) => void): this;
    }
  }
  function busboy(config: busboy.Config): busboy.Busboy;
  export = busboy;
}
