/**
 * Types for the parts of `@20minutes/s3rver` (4.0.x, untyped CommonJS) the local stack uses.
 * Only the local stack (a development tool) imports it.
 */
declare module '@20minutes/s3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  namespace S3rver {
    interface BucketConfig {
      readonly name: string;
      /** XML documents (`CORSConfiguration`, `WebsiteConfiguration`). */
      readonly configs?: ReadonlyArray<string | Buffer>;
    }
    interface Options {
      readonly address?: string;
      readonly port?: number;
      readonly silent?: boolean;
      readonly directory?: string;
      readonly resetOnClose?: boolean;
      readonly allowMismatchedSignatures?: boolean;
      readonly vhostBuckets?: boolean;
      readonly configureBuckets?: readonly BucketConfig[];
    }
    /** The Koa context, as far as the local stack reads it. */
    interface Context {
      readonly method: string;
      readonly path: string;
      readonly query: Record<string, string | string[] | undefined>;
      readonly headers: Record<string, string | string[] | undefined>;
      readonly params: { readonly bucket?: string; readonly key?: string };
      readonly ip: string;
      readonly status: number;
      get(field: string): string;
    }
    type Middleware = (ctx: Context, next: () => Promise<void>) => Promise<void>;
    /** One record of the event s3rver emits (a loose S3 event; the local stack rebuilds the real shape). */
    interface EventRecord {
      readonly eventName: string;
      readonly eventTime: string;
      readonly s3: {
        readonly bucket: { readonly name: string };
        readonly object: { readonly key: string; readonly size?: number; readonly eTag?: string };
      };
    }
    interface Event {
      readonly Records: readonly EventRecord[];
    }
    interface Logger {
      readonly exceptions: { unhandle(): void };
      close(): void;
    }
    interface Store {
      putContent(objectPath: string, content: unknown): Promise<[number, string]>;
    }
  }

  class S3rver {
    constructor(options?: S3rver.Options);
    readonly middleware: S3rver.Middleware[];
    readonly logger: S3rver.Logger;
    readonly store: S3rver.Store;
    configureBuckets(): Promise<unknown>;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: 'event', listener: (event: S3rver.Event) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    reset(): void;
  }

  export = S3rver;
}

declare module '@20minutes/s3rver/lib/models/error' {
  /** An S3 error: rendered by s3rver as the XML error document with the code's HTTP status. */
  class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string>);
    readonly code: string;
    readonly status: number;
    readonly detail: Record<string, unknown>;
    /** The XML error document. */
    toXML(): string;
  }
  export = S3Error;
}

declare module '@20minutes/s3rver/lib/models/account' {
  class AWSAccount {
    static readonly registry: Map<string, AWSAccount>;
    /** Access key id → secret access key. */
    readonly accessKeys: Map<string, string>;
    constructor(accountId: number, displayName: string);
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
    revokeAccessKey(accessKeyId: string): void;
  }
  export = AWSAccount;
}

declare module '@20minutes/s3rver/lib/signature/v4' {
  /** The canonical request s3rver builds (the fields its SigV4 string-to-sign reads). */
  interface CanonicalRequest {
    readonly method: string;
    readonly headers: Record<string, string | string[] | undefined>;
    readonly timestamp: string | undefined;
    readonly uri: string;
    readonly querystring: string;
  }
  const v4: {
    getStringToSign(canonicalRequest: CanonicalRequest, signature: unknown): string;
  };
  export = v4;
}

declare module '@20minutes/s3rver/lib/utils' {
  export function encodeURIComponentRFC3986(value: string): string;
}

declare module '@20minutes/s3rver/lib/stores/filesystem' {
  /** s3rver's filesystem store (its methods are typed where they are used). */
  class FilesystemStore {
    constructor(rootDirectory: string);
  }
  export = FilesystemStore;
}
