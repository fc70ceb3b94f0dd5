import {Text} from 'ink';
import {useTheme} from '../theme.js';

/** One key binding as the footer shows it: the key, then what it does. */
export type KeyHint = readonly [key: string, action: string];

export const hints = {
	move: ['↑↓', 'move'],
	confirm: ['Enter', 'confirm'],
	toggle: ['Space', 'toggle'],
	filter: ['type', 'filter'],
	back: ['Esc/←', 'back'],
	help: ['?', 'help'],
	quit: ['Ctrl+C', 'quit'],
	fields: ['↑↓', 'field'],
} as const satisfies Record<string, KeyHint>;

/** The key line every screen ends with. */
export function Footer({keys}: {keys: readonly KeyHint[]}) {
	const theme = useTheme();
	return (
		<Text wrap="truncate-end" {...theme.tone('muted')}>
			{keys.map(([key, action]) => `${key} ${action}`).join(' · ')}
		</Text>
	);
}
