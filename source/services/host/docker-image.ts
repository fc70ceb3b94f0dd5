import type {ProbeOutput} from '../../core/host-report.js';
import {runProbe, type ProbeOptions} from './run-probe.js';

/** `docker image inspect --format '{{json .}}' IMAGE`. */
export async function inspectImage(image: string, options: ProbeOptions = {}): Promise<ProbeOutput> {
	return runProbe('docker', ['image', 'inspect', '--format', '{{json .}}', image], {timeoutMs: 30_000, ...options});
}

/** Whether an inspect failure means the image is simply not here yet. */
export const imageNotPresent = (probe: ProbeOutput) => probe.status === 'failed' && /No such image|no such image/.test(`${probe.stderr}\n${probe.stdout}`);

/** `docker pull IMAGE`, for an image verify finds neither locally nor by inspect. */
export async function pullImage(image: string, options: ProbeOptions = {}): Promise<ProbeOutput> {
	return runProbe('docker', ['pull', '--quiet', image], {timeoutMs: 1_800_000, ...options});
}

export type RunInImage = {image: string; entrypoint: string; args: string[]; gpus: boolean};

/**
 * `docker run --rm --network none [--gpus all] --entrypoint ENTRYPOINT IMAGE ARGS...`: the entrypoint is set
 * so an image's own ENTRYPOINT cannot swallow the check, the network is off because no check needs it.
 */
export function runArguments(run: RunInImage): string[] {
	return ['run', '--rm', '--network', 'none', ...(run.gpus ? ['--gpus', 'all'] : []), '--entrypoint', run.entrypoint, run.image, ...run.args];
}

export async function runInImage(run: RunInImage, options: ProbeOptions = {}): Promise<ProbeOutput> {
	return runProbe('docker', runArguments(run), {timeoutMs: 300_000, ...options});
}
