import type {ChoiceItem} from '../../core/wizard-state.js';

/** One drawn line of a list: a group heading or an item. */
export type ListLine = {kind: 'heading'; label: string} | {kind: 'item'; item: ChoiceItem; index: number};

/** Items with a heading line before each new group. */
export function listLines(items: readonly ChoiceItem[]): ListLine[] {
	const lines: ListLine[] = [];
	let group: string | undefined;
	for (const [index, item] of items.entries()) {
		if (item.group !== undefined && item.group !== group) {
			lines.push({kind: 'heading', label: item.group});
		}

		group = item.group;
		lines.push({kind: 'item', item, index});
	}

	return lines;
}

/** The cursor after moving by `delta` items, wrapping around the ends. */
export function moveIndex(count: number, index: number, delta: number, wrap = true): number {
	if (count === 0) {
		return 0;
	}

	const next = index + delta;
	if (wrap && Math.abs(delta) === 1) {
		return (next + count) % count;
	}

	return Math.min(count - 1, Math.max(0, next));
}

/**
 * The first visible line after a move: scrolls only as far as needed to keep the cursor line,
 * and the heading right above it, inside a window of `limit` lines.
 */
export function windowStart(previous: number, cursorLine: number, total: number, limit: number, headingAbove: boolean): number {
	if (total <= limit) {
		return 0;
	}

	const top = headingAbove ? cursorLine - 1 : cursorLine;
	let start = previous;
	if (top < start) {
		start = top;
	}

	if (cursorLine > start + limit - 1) {
		start = cursorLine - limit + 1;
	}

	return Math.max(0, Math.min(start, total - limit));
}
