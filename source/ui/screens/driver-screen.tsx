import {Box, Text} from 'ink';
import {useState} from 'react';
import {validateDriver, type ChoiceItem, type ChoiceList, type DriverAnswer, type HostHints} from '../../core/wizard-state.js';
import {DetailLine, detailHeight} from '../components/detail-line.js';
import {SelectList} from '../components/select-list.js';
import {TextInput} from '../components/text-input.js';
import {useBackKey} from '../hooks/use-back-key.js';
import {useStateRef} from '../hooks/use-state-ref.js';
import {useTheme} from '../theme.js';
import type {StepProps} from './step-props.js';

export type DriverScreenProps = StepProps & {
	list: ChoiceList;
	host?: HostHints;
	/** The earlier answer, to refill the typed version. */
	answer?: DriverAnswer;
};

/** Step 1b: the nodes' driver: detected, typed (validated as you type) or unknown. */
export function DriverScreen({list, host, answer, isActive, height, onAnswer, onPreview, onBack}: DriverScreenProps) {
	const theme = useTheme();
	const [typing, typingRef, setTyping] = useStateRef(false);
	const [typed, typedRef, setTyped] = useStateRef(answer?.mode === 'typed' ? answer.version ?? '' : '');
	const [error, setError] = useState<string>();
	const [highlighted, setHighlighted] = useState<ChoiceItem | undefined>(list.items[list.initialIndex]);
	useBackKey(onBack, {
		isActive,
		onEscape() {
			if (!typingRef.current) {
				return false;
			}

			setTyping(false);
			setError(undefined);
			return true;
		},
	});

	const answerFor = (value: string): DriverAnswer => value === 'detected' ? {mode: 'detected', version: host?.driver ?? ''} : value === 'typed' ? {mode: 'typed', version: typedRef.current} : {mode: 'unknown'};

	return (
		<Box flexDirection="column">
			<SelectList
				items={list.items}
				initialIndex={list.initialIndex}
				limit={Math.max(3, height - 1 - detailHeight)}
				isActive={isActive && !typing}
				onHighlight={item => {
					setHighlighted(item);
					if (item.value !== 'typed' || validateDriver(typedRef.current) === undefined) {
						onPreview({step: 'driver', driver: answerFor(item.value)});
					}
				}}
				onSubmit={item => {
					if (item?.value === 'typed') {
						setTyping(true);
						return;
					}

					if (item) {
						onAnswer({step: 'driver', driver: answerFor(item.value)});
					}
				}}
			/>
			{typing || highlighted?.value === 'typed' ? (
				<Text wrap="truncate-end">
					<Text {...theme.tone('muted')}>driver version: </Text>
					<TextInput
						value={typed}
						placeholder="e.g. 535.104.05"
						isActive={isActive && typing}
						accept={/[0-9.]/}
						onChange={value => {
							setTyped(value);
							setError(undefined);
							if (validateDriver(value) === undefined) {
								onPreview({step: 'driver', driver: {mode: 'typed', version: value}});
							}
						}}
						onSubmit={value => {
							const problem = validateDriver(value);
							if (problem) {
								setError(problem);
								return;
							}

							onAnswer({step: 'driver', driver: {mode: 'typed', version: value}});
						}}
					/>
				</Text>
			) : <Text> </Text>}
			<DetailLine flash={error ?? (typing ? 'Enter confirms the version; Esc returns to the list' : undefined)}/>
		</Box>
	);
}
