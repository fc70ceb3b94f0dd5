import {execa} from 'execa';

/** The docker CLI stackwiz runs; tests put a fake one first on PATH. */
export const dockerCommand = 'docker';

export type DockerResult = {
	exitCode: number;
	stdout: string;
	stderr: string;
	/** The docker binary itself could not be started (not installed, not on PATH). */
	missing: boolean;
	/** The call was cut short by the abort signal. */
	canceled: boolean;
};

/**
 * Runs one short docker command with an argument array (never a shell) and returns its output
 * instead of throwing, so callers can turn each failure into a message with a fix.
 */
export async function docker(args: string[], options: {signal?: AbortSignal; timeoutMs?: number; env?: Record<string, string>} = {}): Promise<DockerResult> {
	const result = await execa(dockerCommand, args, {
		reject: false,
		stdin: 'ignore',
		timeout: options.timeoutMs ?? 30_000,
		...(options.signal ? {cancelSignal: options.signal} : {}),
		...(options.env ? {env: options.env} : {}),
		forceKillAfterDelay: 1000,
	});
	const code = (result as {code?: string}).code;
	return {
		exitCode: result.exitCode ?? 1,
		stdout: typeof result.stdout === 'string' ? result.stdout : '',
		stderr: typeof result.stderr === 'string' ? result.stderr : '',
		missing: code === 'ENOENT' || code === 'EACCES',
		canceled: result.isCanceled,
	};
}

/** The first meaningful line of a docker error, without its `ERROR:` / `Error response from daemon:` prefix. */
export function firstErrorLine(text: string): string {
	const line = text
		.split('\n')
		.map(part => part.trim())
		.find(part => part !== '') ?? 'no output';
	return line.replace(/^(ERROR|Error|error)( response from daemon)?:\s*/, '').replace(/\.$/, '');
}
