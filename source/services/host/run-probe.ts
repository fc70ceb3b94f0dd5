import {execa} from 'execa';
import type {ProbeOutput} from '../../core/host-report.js';

export type ProbeOptions = {timeoutMs?: number; signal?: AbortSignal};

/**
 * Runs one host command with an argument array and a time limit and never throws: a missing binary, a
 * non-zero exit, a timeout and a cancellation (the signal, which kills the command) all come back as a
 * ProbeOutput; callers check `signal.aborted` themselves.
 */
export async function runProbe(file: string, args: string[], options: ProbeOptions = {}): Promise<ProbeOutput> {
	const result = await execa(file, args, {
		reject: false,
		timeout: options.timeoutMs ?? 15_000,
		...(options.signal ? {cancelSignal: options.signal} : {}),
		stdin: 'ignore',
		// nvidia-smi and docker print the same text in every locale, but keep number formats predictable.
		env: {LC_ALL: 'C'},
	});
	const stdout = typeof result.stdout === 'string' ? result.stdout : '';
	const stderr = typeof result.stderr === 'string' ? result.stderr : '';
	if (result.code === 'ENOENT') {
		return {status: 'missing', stdout, stderr};
	}

	if (result.timedOut) {
		return {status: 'timeout', stdout, stderr};
	}

	if (result.exitCode === undefined) {
		return {status: 'failed', stdout, stderr: stderr || result.shortMessage || ''};
	}

	return {status: result.exitCode === 0 ? 'ok' : 'failed', exitCode: result.exitCode, stdout, stderr};
}
