import {useCallback, useRef, useState, type MutableRefObject} from 'react';

/**
 * State whose latest value is also in a ref. Keys can arrive faster than React re-renders (a
 * paste, tmux send-keys, a fast typist): Ink then calls the same input handler several times
 * before its closure is renewed, so handlers read and write the ref, never the rendered value.
 */
export function useStateRef<T>(initial: T | (() => T)): [T, MutableRefObject<T>, (next: T) => void] {
	const [state, setState] = useState(initial);
	const ref = useRef(state);
	const set = useCallback((next: T) => {
		ref.current = next;
		setState(next);
	}, []);
	return [state, ref, set];
}

/** A ref that always holds the value of the last render (props the handlers need). */
export function useLatest<T>(value: T): MutableRefObject<T> {
	const ref = useRef(value);
	ref.current = value;
	return ref;
}
