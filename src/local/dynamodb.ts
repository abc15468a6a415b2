/**
 * The DynamoDB stand-in for the optional upload quota: dynalite (a pure-JS DynamoDB emulator, in memory),
 * in-process on 127.0.0.1, with the quota table created as the construct creates it (partition key
 * `pk`, on demand). TTL expiry is not emulated: windows are separate items, so the count is unaffected.
 */
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { close, listen, origin } from './net';
import { LocalCredentials } from './s3';
import { QUOTA_KEY_ATTRIBUTE } from '../signer/quota';

/** Options of {@link startLocalDynamoDb}. */
export interface LocalDynamoDbOptions {
  readonly host: string;
  /** 0 = ephemeral. */
  readonly port: number;
  readonly region: string;
  readonly tableName: string;
  readonly credentials: LocalCredentials;
  /** The option name that sets the port, for error messages. @default 'ports.dynamodb' */
  readonly portOption?: string;
}

/** A running DynamoDB stand-in with the quota table. */
export interface LocalDynamoDb {
  /** `http://host:port`. */
  readonly endpoint: string;
  readonly tableName: string;
  /** A client for this endpoint (destroyed by `stop()`). */
  readonly client: DynamoDBClient;
  /** Whether it is serving (false after `stop()`). */
  readonly running: boolean;
  stop(): Promise<void>;
}

export async function startLocalDynamoDb(options: LocalDynamoDbOptions): Promise<LocalDynamoDb> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listen(server, options.host, options.port, 'DynamoDB (upload quota)', options.portOption ?? 'ports.dynamodb');
  const endpoint = origin(options.host, port);
  const client = new DynamoDBClient({ region: options.region, endpoint, credentials: { ...options.credentials }, maxAttempts: 1 });
  try {
    await client.send(new CreateTableCommand({
      TableName: options.tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: QUOTA_KEY_ATTRIBUTE, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: QUOTA_KEY_ATTRIBUTE, KeyType: 'HASH' }],
    }));
  } catch (err) {
    client.destroy();
    await close(server);
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    tableName: options.tableName,
    client,
    get running() {
      return server.listening;
    },
    stop: () => (stopped ??= (async () => {
      client.destroy();
      await close(server);
    })()),
  };
}
