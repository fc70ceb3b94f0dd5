import {Box} from 'ink';
import {useState} from 'react';
import type {ChoiceItem, ChoiceList, StepAnswer} from '../../core/wizard-state.js';
import {DetailLine, detailHeight} from '../components/detail-line.js';
import {SelectList} from '../components/select-list.js';
import {useBackKey} from '../hooks/use-back-key.js';
import type {StepProps} from './step-props.js';

export type ChoiceScreenProps = StepProps & {
	list: ChoiceList;
	/** The answer an item stands for. */
	toAnswer: (value: string) => StepAnswer;
	/** Preview the highlighted item in the live tree (off where a preview means nothing). */
	previews?: boolean;
};

/** One choice from a list with greyed items: CUDA, framework, Python, "more images". */
export function ChoiceScreen({list, toAnswer, previews = true, isActive, height, onAnswer, onPreview, onBack}: ChoiceScreenProps) {
	const [highlighted, setHighlighted] = useState<ChoiceItem | undefined>(list.items[list.initialIndex]);
	const [flash, setFlash] = useState<string>();
	useBackKey(onBack, {isActive});
	return (
		<Box flexDirection="column">
			<SelectList
				items={list.items}
				initialIndex={list.initialIndex}
				limit={Math.max(3, height - detailHeight)}
				isActive={isActive}
				onHighlight={item => {
					setHighlighted(item);
					setFlash(undefined);
					if (previews) {
						onPreview(toAnswer(item.value));
					}
				}}
				onBlocked={item => {
					setFlash(`${item.label} cannot be picked: ${item.reason ?? 'it does not fit'}`);
				}}
				onSubmit={item => {
					if (item) {
						onAnswer(toAnswer(item.value));
					}
				}}
			/>
			<DetailLine item={highlighted} flash={flash}/>
		</Box>
	);
}
