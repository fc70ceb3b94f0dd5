import {Box, Text} from 'ink';
import {useState} from 'react';
import type {ChoiceItem, ChoiceList, StepAnswer} from '../../core/wizard-state.js';
import {DetailLine, detailHeight} from '../components/detail-line.js';
import {SelectList} from '../components/select-list.js';
import {useBackKey} from '../hooks/use-back-key.js';
import {useTheme} from '../theme.js';
import type {StepProps} from './step-props.js';

export type MultiScreenProps = StepProps & {
	list: ChoiceList;
	/** The earlier answer; items greyed since then start unchecked. */
	checked: string[];
	toAnswer: (values: string[]) => StepAnswer;
	/** Shown when the catalog lists nothing for this step. */
	emptyText: string;
};

/** Extras and apps: any number, none included; each greyed with its reason when it does not fit. */
export function MultiScreen({list, checked, toAnswer, emptyText, isActive, height, onAnswer, onPreview, onBack}: MultiScreenProps) {
	const theme = useTheme();
	const allowed = new Set(list.items.filter(item => item.allowed).map(item => item.value));
	const [initial] = useState(() => checked.filter(value => allowed.has(value)));
	const [count, setCount] = useState(initial.length);
	const [highlighted, setHighlighted] = useState<ChoiceItem | undefined>(list.items[0]);
	const [flash, setFlash] = useState<string>();
	useBackKey(onBack, {isActive});
	return (
		<Box flexDirection="column">
			<SelectList
				items={list.items}
				multiple
				initialChecked={initial}
				limit={Math.max(3, height - 1 - detailHeight)}
				isActive={isActive}
				emptyText={emptyText}
				onHighlight={item => {
					setHighlighted(item);
					setFlash(undefined);
				}}
				onChange={next => {
					setCount(next.length);
					onPreview(toAnswer(next));
				}}
				onBlocked={item => {
					setFlash(`${item.label} cannot be added: ${item.reason ?? 'it does not fit'}`);
				}}
				onSubmit={(_item, values) => {
					onAnswer(toAnswer(values.filter(value => allowed.has(value))));
				}}
			/>
			<Text {...theme.tone('muted')}>{count === 0 ? 'none checked: Enter goes on without any' : `${count} checked: Enter confirms`}</Text>
			<DetailLine item={highlighted} flash={flash}/>
		</Box>
	);
}
