import {Box, Text} from 'ink';
import {useTheme} from '../theme.js';

/** The `?` explanation of the current step, two or three lines. */
export function HelpBox({text}: {text: string}) {
	const theme = useTheme();
	return (
		<Box flexDirection="column" borderStyle="round" borderColor={theme.noColor ? undefined : 'blue'} paddingX={1}>
			{text.split('\n').map(line => <Text key={line} {...theme.tone('info')}>{line}</Text>)}
		</Box>
	);
}
