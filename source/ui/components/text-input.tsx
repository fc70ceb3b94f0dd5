import {Text, useInput} from 'ink';
import {useLatest} from '../hooks/use-state-ref.js';
import {useTheme} from '../theme.js';

export type TextInputProps = {
	value: string;
	/** Shown dimmed while the value is empty. */
	placeholder?: string;
	isActive: boolean;
	/** Every edit; the parent owns the value. */
	onChange: (value: string) => void;
	/** Enter. */
	onSubmit?: (value: string) => void;
	/** Characters the field accepts; others are dropped as they are typed. */
	accept?: RegExp;
};

/**
 * A one-line text field that appends and deletes at the end. It has no caret movement, so ← stays
 * free for "back" as on every other screen. In Ink 6.8 Backspace arrives as `key.delete`.
 */
export function TextInput({value, placeholder = '', isActive, onChange, onSubmit, accept}: TextInputProps) {
	const theme = useTheme();
	// Keys may come faster than renders; edits chain on the last value typed, not the rendered one.
	const latest = useLatest(value);
	useInput((input, key) => {
		const current = latest.current;
		if (key.return) {
			onSubmit?.(current);
			return;
		}

		if (key.backspace || key.delete) {
			latest.current = current.slice(0, -1);
			onChange(latest.current);
			return;
		}

		if (key.ctrl || key.meta || key.escape || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || input === '?') {
			return;
		}

		// A paste arrives as one string; keep its printable characters.
		const typed = [...input].filter(character => character >= ' ' && character !== '\u007F' && (!accept || accept.test(character))).join('');
		if (typed) {
			latest.current = current + typed;
			onChange(latest.current);
		}
	}, {isActive});

	const cursor = isActive ? <Text inverse> </Text> : null;
	if (value === '') {
		return (
			<Text wrap="truncate-end">
				{cursor}
				<Text {...theme.tone('muted')}>{placeholder}</Text>
			</Text>
		);
	}

	return (
		<Text wrap="truncate-end">
			{value}
			{cursor}
		</Text>
	);
}
