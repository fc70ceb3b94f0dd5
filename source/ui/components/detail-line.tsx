import {Box, Text} from 'ink';
import type {ChoiceItem} from '../../core/wizard-state.js';
import {useTheme} from '../theme.js';

/** Lines a screen keeps for the detail line under its list. */
export const detailHeight = 2;

/**
 * Under a list: a message that answers the last key (flash), else the full reason of a greyed
 * item the cursor is on, which the list line may have cut.
 */
export function DetailLine({item, flash}: {item?: ChoiceItem; flash?: string}) {
	const theme = useTheme();
	let content = null;
	if (flash) {
		content = <Text {...theme.tone('warning')}>{flash}</Text>;
	} else if (item && !item.allowed) {
		content = <Text {...theme.tone('muted')}>{`${theme.glyph.blocked} ${item.label} does not fit: ${item.reason ?? 'no reason given'}`}</Text>;
	}

	return (
		<Box height={detailHeight} overflow="hidden" flexDirection="column">
			{content}
		</Box>
	);
}
