import {stripVTControlCharacters} from 'node:util';
import {act, type ReactElement} from 'react';
import {render} from 'ink-testing-library';
import {expect, vi} from 'vitest';

/** Named keys, as a terminal sends them. */
export const KEY = {
	up: '\u001B[A',
	down: '\u001B[B',
	left: '\u001B[D',
	right: '\u001B[C',
	enter: '\r',
	esc: '\u001B',
	space: ' ',
	backspace: '\u007F',
	tab: '\t',
	ctrlC: '\u0003',
	pageDown: '\u001B[6~',
	home: '\u001B[H',
	end: '\u001B[F',
} as const;

export type Size = {columns: number; rows: number};

/**
 * ink-testing-library with a terminal size (80x24 unless told) and helpers: `frame()` is the last
 * frame without ANSI codes; `press` sends keys one by one, each inside act() so the next key
 * sees the handlers of the new render; `waitFor` polls the frame (no fixed sleeps).
 */
export async function renderTui(tree: ReactElement, size: Size = {columns: 80, rows: 24}) {
	let result!: ReturnType<typeof render>;
	await inAct(async () => {
		result = render(tree);
		// With CI set, Ink writes a bare newline on exit, which would replace the last frame (see the style guide).
		const write = result.stdout.write;
		result.stdout.write = (text: string) => {
			if (text !== '\n') {
				write(text);
			}
		};
	});
	// ink-testing-library's stdout is 100 columns and has no rows; resize it once the app listens.
	Object.defineProperty(result.stdout, 'columns', {get: () => size.columns, configurable: true});
	Object.defineProperty(result.stdout, 'rows', {get: () => size.rows, configurable: true});
	await inAct(async () => {
		result.stdout.emit('resize');
	});
	// Frames drawn before the size took effect are not the app at this size.
	const firstSized = Math.max(0, result.frames.length - 1);
	const frame = () => stripVTControlCharacters(result.lastFrame() ?? '');
	return {
		...result,
		frame,
		/** Every frame written so far, without ANSI codes. */
		frames: () => result.frames.slice(firstSized).map(text => stripVTControlCharacters(text)),
		async press(...keys: string[]) {
			for (const key of keys) {
				await inAct(async () => {
					result.stdin.write(key);
					// A lone Esc reaches the handlers one setImmediate later (Ink waits for a sequence).
					await new Promise(resolve => {
						setImmediate(resolve);
					});
				});
			}
		},
		async waitFor(expected: string | RegExp, options: {timeout?: number} = {}) {
			await vi.waitFor(() => {
				if (typeof expected === 'string') {
					expect(frame()).toContain(expected);
				} else {
					expect(frame()).toMatch(expected);
				}
			}, {timeout: options.timeout ?? 3000, interval: 5});
		},
		async waitForGone(text: string) {
			await vi.waitFor(() => {
				expect(frame()).not.toContain(text);
			}, {timeout: 3000, interval: 5});
		},
	};
}

/**
 * Runs a key press inside React's act(), so the render it causes and the passive effects after it
 * (where Ink re-subscribes input handlers) are done before the next key: a real user is slower
 * than that, a test is not. The act environment flag is on only for this, so the asynchronous
 * updates the app makes by itself (planning, fake services) do not warn.
 */
async function inAct(work: () => Promise<void>): Promise<void> {
	const scope = globalThis as {IS_REACT_ACT_ENVIRONMENT?: boolean};
	const previous = scope.IS_REACT_ACT_ENVIRONMENT;
	scope.IS_REACT_ACT_ENVIRONMENT = true;
	try {
		await act(work);
	} finally {
		scope.IS_REACT_ACT_ENVIRONMENT = previous;
	}
}
