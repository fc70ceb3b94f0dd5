import {readFile} from 'node:fs/promises';
import {execa} from 'execa';
import {BakeTracker, type BakeTarget, type TierFailure} from '../../core/bake-progress.js';
import type {BuildEvent} from '../../core/build-events.js';
import {dockerCommand} from './docker-cli.js';

/** What bake's `--metadata-file` says about one target. */
export type TargetMetadata = {digest: string | null; configDigest: string | null; imageName: string | null};

export type BakeRunOptions = {
	/** Directory bake runs in; the bake file's relative contexts resolve from here. */
	cwd: string;
	/** The arguments after `docker`: `buildx bake -f ... --progress=rawjson ...`. */
	args: string[];
	/** Where `args` tells bake to write its metadata (absolute path). */
	metadataFile: string;
	targets: readonly BakeTarget[];
	/** Each target's own Dockerfile steps, to attribute shared steps exactly. */
	steps?: ReadonlyMap<string, readonly string[]>;
	push: boolean;
	env?: Record<string, string>;
	signal: AbortSignal;
	onEvent: (event: BuildEvent) => void;
	now?: () => number;
	/** How long bake gets to stop after SIGINT before its whole process group is killed. */
	killAfterMs?: number;
};

export type BakeRunResult = {
	exitCode: number;
	/** The run was stopped by the abort signal. */
	interrupted: boolean;
	/** Per target, only when bake succeeded (it writes no metadata otherwise). */
	metadata: Map<string, TargetMetadata> | null;
	failures: TierFailure[];
	/** bake's `ERROR:` lines, without the prefix. */
	errors: string[];
	/** The signal that ended bake's docker process, when it did not exit by itself (killed from outside). */
	killedBy: string | null;
	durationMs: number;
};

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
	try {
		process.kill(-pid, signal);
		return true;
	} catch {
		return false;
	}
}

async function readMetadata(file: string): Promise<Map<string, TargetMetadata> | null> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch {
		return null;
	}

	const data = JSON.parse(text) as Record<string, Record<string, unknown>>;
	const metadata = new Map<string, TargetMetadata>();
	for (const [target, values] of Object.entries(data)) {
		if (target.startsWith('buildx.') || typeof values !== 'object' || values === null) {
			continue;
		}

		const text = (key: string) => (typeof values[key] === 'string' ? (values[key] as string) : null);
		metadata.set(target, {digest: text('containerimage.digest'), configDigest: text('containerimage.config.digest'), imageName: text('image.name')});
	}

	return metadata;
}

/**
 * Runs `docker buildx bake` with rawjson progress and streams its stderr into per-tier events.
 *
 * bake runs in a process group of its own (the docker CLI starts the buildx plugin as a child), so
 * that an abort can stop all of it: SIGINT to the CLI first, which lets BuildKit cancel the solve
 * cleanly, then SIGKILL to the whole group after `killAfterMs`. When the CLI has exited, anything
 * still in its group is killed too, so no docker or buildx process outlives the run.
 */
export async function runBake(options: BakeRunOptions): Promise<BakeRunResult> {
	const now = options.now ?? Date.now;
	const started = now();
	const tracker = new BakeTracker({targets: options.targets, push: options.push, steps: options.steps, now});
	const emit = (events: BuildEvent[]) => {
		for (const event of events) {
			options.onEvent(event);
		}
	};

	emit(tracker.start());
	if (options.signal.aborted) {
		emit(tracker.finish({exitCode: 130, interrupted: true}));
		return {exitCode: 130, interrupted: true, metadata: null, failures: [], errors: [], killedBy: null, durationMs: 0};
	}

	const killAfterMs = options.killAfterMs ?? 1500;
	const subprocess = execa(dockerCommand, options.args, {
		cwd: options.cwd,
		...(options.env ? {env: options.env} : {}),
		stdin: 'ignore',
		stdout: 'ignore',
		stderr: 'pipe',
		buffer: false,
		detached: true,
		cancelSignal: options.signal,
		killSignal: 'SIGINT',
		forceKillAfterDelay: killAfterMs,
		reject: false,
	});

	const {pid} = subprocess;
	let killTimer: NodeJS.Timeout | undefined;
	// execa sends SIGINT to the docker CLI, which hands it on to its buildx plugin (a second SIGINT
	// to the plugin, as a group signal would add, makes the CLI quit first and orphan the plugin).
	// If bake is still there after `killAfterMs`, its whole group is killed.
	const onAbort = () => {
		if (pid !== undefined) {
			killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), killAfterMs);
		}
	};

	// Should stackwiz itself exit first (a second Ctrl-C), bake's group goes with it.
	const onExit = () => {
		if (pid !== undefined) {
			signalGroup(pid, 'SIGKILL');
		}
	};

	options.signal.addEventListener('abort', onAbort, {once: true});
	process.once('exit', onExit);
	subprocess.stderr.setEncoding('utf8');
	subprocess.stderr.on('data', (chunk: string) => {
		emit(tracker.feed(chunk));
	});

	const result = await subprocess;
	options.signal.removeEventListener('abort', onAbort);
	process.removeListener('exit', onExit);
	clearTimeout(killTimer);
	if (pid !== undefined && signalGroup(pid, 0)) {
		signalGroup(pid, 'SIGKILL');
	}

	const interrupted = options.signal.aborted;
	const exitCode = result.exitCode ?? (interrupted ? 130 : 1);
	emit(tracker.finish({exitCode, interrupted}));
	const missing = (result as {code?: string}).code === 'ENOENT';
	return {
		exitCode,
		interrupted,
		metadata: exitCode === 0 ? await readMetadata(options.metadataFile) : null,
		failures: tracker.failures(),
		errors: missing ? ['docker was not found on PATH'] : tracker.errorLines(),
		killedBy: interrupted ? null : (result.signal ?? null),
		durationMs: now() - started,
	};
}
