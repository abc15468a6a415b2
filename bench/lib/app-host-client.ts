/**
 * Parent side of bench/apps/app-host.ts: forks it (TypeScript through tsx), starts a server in it, and
 * reads its CPU time and byte counters.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import type { HostReply, HostRequest, StartMessage, Usage } from '../apps/app-host';

const HOST = path.join(__dirname, '..', 'apps', 'app-host.ts');

export interface AppHost {
  readonly url: string;
  usage(): Promise<Usage>;
  stop(): Promise<void>;
}

function next(child: ChildProcess): Promise<HostReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: HostReply) => {
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`the app host exited (code ${code})`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export async function startAppHost(start: StartMessage): Promise<AppHost> {
  const child = fork(HOST, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NODE_NO_WARNINGS: '1', AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const request = async (message: HostRequest): Promise<HostReply> => {
    const reply = next(child);
    child.send(message);
    return reply;
  };
  const started = await request(start);
  if (started.type !== 'started') {
    child.kill();
    throw new Error(`the app host did not start: ${JSON.stringify(started)}`);
  }
  return {
    url: started.url,
    async usage() {
      const reply = await request({ type: 'usage' });
      if (reply.type !== 'usage') throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      return reply;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
