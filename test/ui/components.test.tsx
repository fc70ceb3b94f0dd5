/**
 * The wizard's own list and text field (ink-select-input cannot grey items out or check several),
 * the pure list helpers under them, and the theme's NO_COLOR table.
 */
import {useState} from 'react';
import {afterEach, describe, expect, test} from 'vitest';
import type {ChoiceItem} from '../../source/core/wizard-state.js';
import {listLines, moveIndex, windowStart} from '../../source/ui/components/list-model.js';
import {SelectList} from '../../source/ui/components/select-list.js';
import {TextInput} from '../../source/ui/components/text-input.js';
import {createTheme} from '../../source/ui/theme.js';
import {KEY, renderTui} from './helpers/render.js';

const items: ChoiceItem[] = [
	{value: 'a', label: 'Alpha', allowed: true, note: 'first', group: 'One'},
	{value: 'b', label: 'Beta', allowed: false, reason: 'needs more', group: 'One'},
	{value: 'c', label: 'Gamma', allowed: true, group: 'Two'},
	{value: 'd', label: 'Delta', allowed: true, group: 'Two'},
	{value: 'e', label: 'Epsilon', allowed: true, group: 'Two'},
];

let unmount: (() => void) | undefined;
afterEach(() => {
	unmount?.();
	unmount = undefined;
});

describe('list model', () => {
	test('headings before each new group', () => {
		expect(listLines(items).map(line => (line.kind === 'heading' ? `# ${line.label}` : line.item.value))).toEqual(['# One', 'a', 'b', '# Two', 'c', 'd', 'e']);
	});

	test('single steps wrap around, page steps stop at the ends', () => {
		expect(moveIndex(5, 4, 1)).toBe(0);
		expect(moveIndex(5, 0, -1)).toBe(4);
		expect(moveIndex(5, 1, 3, false)).toBe(4);
		expect(moveIndex(5, 3, 9, false)).toBe(4);
		expect(moveIndex(0, 0, 1)).toBe(0);
	});

	test('the window scrolls only as far as the cursor needs, keeping its heading', () => {
		expect(windowStart(0, 3, 4, 5, false)).toBe(0);
		expect(windowStart(0, 6, 10, 4, false)).toBe(3);
		expect(windowStart(3, 4, 10, 4, false)).toBe(3);
		expect(windowStart(3, 4, 10, 4, true)).toBe(3);
		expect(windowStart(5, 4, 10, 4, true)).toBe(3);
		expect(windowStart(9, 9, 10, 4, false)).toBe(6);
	});
});

describe('SelectList', () => {
	test('greyed items show their reason and cannot be picked; Enter picks an allowed one', async () => {
		const events: string[] = [];
		const ui = await renderTui(<SelectList items={items} limit={10} isActive onHighlight={item => events.push(`hi ${item.value}`)} onBlocked={item => events.push(`blocked ${item.value}`)} onSubmit={item => events.push(`pick ${item?.value ?? ''}`)}/>);
		unmount = ui.unmount;
		expect(ui.frame()).toBe(['One', '› Alpha  first', '  × Beta  needs more', 'Two', '  Gamma', '  Delta', '  Epsilon'].join('\n'));
		await ui.press(KEY.down, KEY.enter, 'j', KEY.enter);
		expect(events).toEqual(['hi a', 'hi b', 'blocked b', 'hi c', 'pick c']);
	});

	test('multiple: Space toggles, greyed items refuse, Enter gives the checked values', async () => {
		const results: string[][] = [];
		const blocked: string[] = [];
		const ui = await renderTui(<SelectList multiple items={items} initialChecked={['d']} limit={10} isActive onBlocked={item => blocked.push(item.value)} onSubmit={(_item, checked) => results.push(checked)}/>);
		unmount = ui.unmount;
		expect(ui.frame()).toContain('[x] Delta');
		await ui.press(KEY.space, KEY.down, KEY.space, KEY.enter);
		expect(ui.frame()).toContain('› [ ] × Beta');
		expect(blocked).toEqual(['b']);
		expect(results).toEqual([['d', 'a']]);
	});

	test('a long list scrolls and says how much is above and below', async () => {
		const many: ChoiceItem[] = Array.from({length: 30}, (_, index) => ({value: String(index), label: `Item ${index}`, allowed: true}));
		const ui = await renderTui(<SelectList items={many} initialIndex={10} limit={5} isActive onSubmit={() => {}}/>);
		unmount = ui.unmount;
		expect(ui.frame()).toContain('› Item 10');
		expect(ui.frame().split('\n')).toHaveLength(5);
		expect(ui.frame()).toMatch(/↑ \d+ more {2}↓ \d+ more/);
		await ui.press(KEY.pageDown);
		expect(ui.frame()).toContain('› Item 13');
		await ui.press(KEY.end);
		expect(ui.frame()).toContain('› Item 29');
		expect(ui.frame()).not.toContain('↓');
	});

	test('keys sent faster than React renders all count', async () => {
		const picked: string[] = [];
		const ui = await renderTui(<SelectList items={items} limit={10} isActive onSubmit={item => picked.push(item!.value)}/>);
		unmount = ui.unmount;
		// One write, two arrows and Enter: the handler runs three times before any re-render.
		ui.stdin.write(`${KEY.down}${KEY.down}${KEY.enter}`);
		await ui.waitFor('› Gamma');
		expect(picked).toEqual(['c']);
	});
});

function Field({onSubmit}: {onSubmit: (value: string) => void}) {
	const [value, setValue] = useState('');
	return <TextInput value={value} placeholder="type here" isActive accept={/[0-9.]/} onChange={setValue} onSubmit={onSubmit}/>;
}

describe('TextInput', () => {
	test('typing, Backspace (key.delete in Ink 6.8), a paste, and characters it does not accept', async () => {
		const submitted: string[] = [];
		const ui = await renderTui(<Field onSubmit={value => submitted.push(value)}/>);
		unmount = ui.unmount;
		expect(ui.frame()).toBe(' type here');
		await ui.press('5', 'x', '3', '?', KEY.backspace, '5');
		expect(ui.frame()).toBe('55');
		await ui.press('0.54.15', KEY.enter);
		expect(submitted).toEqual(['550.54.15']);
	});
});

describe('theme', () => {
	test('NO_COLOR: no colour and no dimming in any tone', () => {
		const plain = createTheme(true);
		for (const tone of ['accent', 'muted', 'error', 'success', 'warning', 'heading', 'selected', 'info'] as const) {
			expect(plain.tone(tone).color).toBeUndefined();
			expect(plain.tone(tone).dimColor).toBeUndefined();
		}

		expect(createTheme(false).tone('error').color).toBe('red');
	});
});
