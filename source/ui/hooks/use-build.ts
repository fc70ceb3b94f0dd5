import {useEffect, useRef, useState} from 'react';
import {initialBuildState, reduceBuild, type BuildEvent, type BuildState} from '../../core/build-events.js';

/** How often buffered build events reach the screen; Ink draws at most 30 frames a second anyway. */
export const buildFlushMs = 100;

export type BuildRun = {
	state: BuildState;
	/** The stream ended (finish event or not); `error` when it threw. */
	ended: boolean;
	error?: Error;
};

/**
 * Folds a build's event stream through core's reduceBuild. Events are buffered and applied every
 * buildFlushMs (one setState per flush, not per line) with a trailing flush when the stream ends.
 * `start` is null until the build should begin.
 */
export function useBuild(start: ((signal: AbortSignal) => AsyncIterable<BuildEvent>) | null, signal: AbortSignal): BuildRun {
	const [run, setRun] = useState<BuildRun>({state: initialBuildState, ended: false});
	const pending = useRef<BuildEvent[]>([]);
	useEffect(() => {
		if (!start) {
			return;
		}

		let active = true;
		const flush = () => {
			if (pending.current.length === 0) {
				return;
			}

			const events = pending.current;
			pending.current = [];
			setRun(previous => ({...previous, state: events.reduce(reduceBuild, previous.state)}));
		};

		const timer = setInterval(flush, buildFlushMs);
		void (async () => {
			let error: Error | undefined;
			try {
				for await (const event of start(signal)) {
					pending.current.push(event);
				}
			} catch (thrown) {
				error = thrown instanceof Error ? thrown : new Error(String(thrown));
			}

			clearInterval(timer);
			if (active) {
				flush();
				setRun(previous => ({...previous, ended: true, ...(error ? {error} : {})}));
			}
		})();
		return () => {
			active = false;
			clearInterval(timer);
		};
		// One build per start function.
	}, [start]);
	return run;
}
