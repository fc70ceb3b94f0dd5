import {useEffect, useRef, useState} from 'react';
import type {PlanPreview, PreviewPlanner, WizardAnswers} from '../../core/wizard-state.js';

/**
 * The tree for the current answers, off the keystroke path: a planned (or prefetched) answer set
 * shows at once; a new one keeps the last tree on screen for the frame that answers the key and
 * is planned right after it, so moving the cursor never waits for the resolver.
 */
export function usePreview(planner: PreviewPlanner, answers: WizardAnswers): {preview: PlanPreview; pending: boolean} {
	const last = useRef<PlanPreview | undefined>(undefined);
	const [, setPlanned] = useState(0);
	let cached = planner.peek(answers);
	if (!cached && !last.current) {
		// The very first frame has nothing to show instead; plan it now.
		cached = planner.plan(answers);
	}

	const pending = !cached;
	useEffect(() => {
		if (!pending) {
			return;
		}

		// Even when planning ahead filled the cache since this render, a new render must show it.
		const handle = setImmediate(() => {
			planner.plan(answers);
			setPlanned(count => count + 1);
		});
		return () => {
			clearImmediate(handle);
		};
	}, [planner, answers, pending]);

	if (cached) {
		last.current = cached;
	}

	return {preview: cached ?? last.current!, pending};
}

/** How long one slice of background planning may run before input gets its turn. */
const sliceMs = 8;

/** Planning ahead starts once the keys have paused this long, so it never competes with typing. */
export const prefetchIdleMs = 120;

/**
 * Plans the answers a step's options would give while the user reads the list, a slice at a
 * time between input events, nearest to the first highlight first. Any key (a new `activity`)
 * pauses it until the keys rest again; a new step starts it over.
 */
export function usePrefetch(planner: PreviewPlanner, candidates: readonly WizardAnswers[], activity: unknown): void {
	const next = useRef(0);
	useEffect(() => {
		next.current = 0;
	}, [candidates]);

	useEffect(() => {
		let handle: NodeJS.Immediate | undefined;
		const work = () => {
			const start = performance.now();
			while (next.current < candidates.length && performance.now() - start < sliceMs) {
				planner.plan(candidates[next.current]!);
				next.current++;
			}

			handle = next.current < candidates.length ? setImmediate(work) : undefined;
		};

		const timer = setTimeout(work, prefetchIdleMs);
		return () => {
			clearTimeout(timer);
			if (handle) {
				clearImmediate(handle);
			}
		};
	}, [planner, candidates, activity]);
}
