import {Box, Text, useInput} from 'ink';
import {useEffect, useRef} from 'react';
import type {ChoiceItem} from '../../core/wizard-state.js';
import {useTheme} from '../theme.js';
import {useLatest, useStateRef} from '../hooks/use-state-ref.js';
import {listLines, moveIndex, windowStart} from './list-model.js';

export type SelectListProps = {
	/** What to list, ready-made by core; greyed items carry their reason. */
	items: ChoiceItem[];
	/** The item highlighted first: the earlier answer when coming back. */
	initialIndex?: number;
	/** Space toggles items and Enter confirms the checked set. */
	multiple?: boolean;
	/** Values checked at first (multiple only). */
	initialChecked?: string[];
	/** Lines the list may use, headings and the scroll hint included. */
	limit: number;
	/** Listens to keys only while true (focused and raw mode available). */
	isActive: boolean;
	/** j/k move too; off where letters are typed into a filter. */
	letterKeys?: boolean;
	/** The highlighted item, on mount and on every move; drives the live tree. */
	onHighlight?: (item: ChoiceItem) => void;
	/** The checked values after every toggle (multiple only). */
	onChange?: (checked: string[]) => void;
	/** Enter: the highlighted item (single) or the checked values (multiple). */
	onSubmit: (item: ChoiceItem | undefined, checked: string[]) => void;
	/** Enter or Space on a greyed item. */
	onBlocked?: (item: ChoiceItem) => void;
	/** Shown when no item is listed (e.g. the filter matches nothing). */
	emptyText?: string;
};

/**
 * A single- or multi-select list with greyed items, group headings and scrolling. ink-select-input
 * cannot grey items out or check several, so the wizard draws its own; it keeps the same keys.
 */
export function SelectList({items, initialIndex = 0, multiple = false, initialChecked = [], limit, isActive, letterKeys = true, onHighlight, onChange, onSubmit, onBlocked, emptyText = 'nothing to choose'}: SelectListProps) {
	const theme = useTheme();
	const [cursorValue, cursorRef, setCursorValue] = useStateRef<string | undefined>(items[initialIndex]?.value ?? items[0]?.value);
	const [checked, checkedRef, setChecked] = useStateRef<string[]>(initialChecked);
	const itemsRef = useLatest(items);
	const startRef = useRef(0);

	const found = items.findIndex(item => item.value === cursorValue);
	const cursor = found >= 0 ? found : 0;
	const current = items[cursor];

	// The first highlight is announced once mounted; later ones by the key that moves the cursor, in
	// the same render, so a move costs one frame.
	useEffect(() => {
		if (current) {
			onHighlight?.(current);
		}
	}, []);

	useInput((input, key) => {
		// Read the refs: several keys may arrive before the next render.
		const list = itemsRef.current;
		const checkedNow = checkedRef.current;
		if (list.length === 0) {
			if (key.return && multiple) {
				onSubmit(undefined, checkedNow);
			}

			return;
		}

		const index = Math.max(0, list.findIndex(item => item.value === cursorRef.current));
		const item = list[index]!;
		const goTo = (target: ChoiceItem) => {
			if (target.value !== cursorRef.current) {
				setCursorValue(target.value);
				onHighlight?.(target);
			}
		};

		const move = (delta: number, wrap = true) => {
			goTo(list[moveIndex(list.length, index, delta, wrap)]!);
		};

		if (key.upArrow || (letterKeys && input === 'k')) {
			move(-1);
		} else if (key.downArrow || (letterKeys && input === 'j')) {
			move(1);
		} else if (key.pageUp) {
			move(-Math.max(1, limit - 2), false);
		} else if (key.pageDown) {
			move(Math.max(1, limit - 2), false);
		} else if (key.home) {
			goTo(list[0]!);
		} else if (key.end) {
			goTo(list.at(-1)!);
		} else if (multiple && input === ' ') {
			if (!item.allowed && !checkedNow.includes(item.value)) {
				onBlocked?.(item);
				return;
			}

			const next = checkedNow.includes(item.value) ? checkedNow.filter(value => value !== item.value) : [...checkedNow, item.value];
			setChecked(next);
			onChange?.(next);
		} else if (key.return) {
			if (!multiple && !item.allowed) {
				onBlocked?.(item);
				return;
			}

			onSubmit(item, checkedNow);
		}
	}, {isActive});

	if (items.length === 0) {
		return <Text {...theme.tone('muted')}>  {emptyText}</Text>;
	}

	const lines = listLines(items);
	const cursorLine = lines.findIndex(line => line.kind === 'item' && line.index === cursor);
	const overflow = lines.length > limit;
	const room = overflow ? Math.max(1, limit - 1) : limit;
	const start = windowStart(startRef.current, cursorLine, lines.length, room, lines[cursorLine - 1]?.kind === 'heading');
	startRef.current = start;
	const visible = lines.slice(start, start + room);
	const below = lines.slice(start + room).filter(line => line.kind === 'item').length;
	const above = lines.slice(0, start).filter(line => line.kind === 'item').length;

	return (
		<Box flexDirection="column">
			{visible.map(line => {
				if (line.kind === 'heading') {
					return <Text key={`h-${line.label}`} wrap="truncate-end" {...theme.tone('heading')}>{line.label}</Text>;
				}

				const {item, index} = line;
				const isCursor = index === cursor;
				const mark = multiple ? `${checked.includes(item.value) ? theme.glyph.checked : theme.glyph.unchecked} ` : '';
				const blocked = item.allowed ? '' : `${theme.glyph.blocked} `;
				const tone = !item.allowed ? theme.tone('muted') : isCursor ? theme.tone('selected') : {};
				const detail = item.allowed ? item.note : item.reason;
				return (
					<Text key={`i-${item.value}`} wrap="truncate-end">
						<Text {...(isCursor ? theme.tone('accent') : {})}>{isCursor ? `${theme.glyph.pointer} ` : '  '}</Text>
						<Text {...tone}>{mark}{blocked}{item.label}</Text>
						{detail ? <Text {...theme.tone('muted')}>{`  ${detail}`}</Text> : null}
					</Text>
				);
			})}
			{overflow ? <Text {...theme.tone('muted')}>{`  ${above > 0 ? `↑ ${above} more  ` : ''}${below > 0 ? `↓ ${below} more` : ''}`}</Text> : null}
		</Box>
	);
}
