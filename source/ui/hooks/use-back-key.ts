import {useInput} from 'ink';

/**
 * Esc or ← goes back. `onEscape` may take Esc first (clear a filter, leave a text field) by
 * returning true. Ink 6.8 sets `key.meta` together with `key.escape`, so only `escape` is tested.
 */
export function useBackKey(onBack: () => void, {isActive, onEscape}: {isActive: boolean; onEscape?: () => boolean}): void {
	useInput((_input, key) => {
		if (key.escape || key.leftArrow) {
			if (onEscape?.()) {
				return;
			}

			onBack();
		}
	}, {isActive});
}
