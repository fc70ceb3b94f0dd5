import {Box, Text, useInput} from 'ink';
import {useMemo, useState} from 'react';
import {filterItems, type ChoiceItem} from '../../core/wizard-state.js';
import {DetailLine, detailHeight} from '../components/detail-line.js';
import {SelectList} from '../components/select-list.js';
import {useBackKey} from '../hooks/use-back-key.js';
import {useStateRef} from '../hooks/use-state-ref.js';
import {useTheme} from '../theme.js';
import type {StepProps} from './step-props.js';

export type GpuScreenProps = StepProps & {
	/** Every GPU model, grouped by architecture (core's gpuItems). */
	items: ChoiceItem[];
	/** The earlier answer, or the models nvidia-smi reported. */
	initialChecked: string[];
	/** "Pre-selected from nvidia-smi: ..." or why nothing was. */
	hostNote?: string;
};

/** Step 1: GPU models, several at once, with type-to-filter. */
export function GpuScreen({items, initialChecked, hostNote, isActive, height, onAnswer, onPreview, onBack}: GpuScreenProps) {
	const theme = useTheme();
	const [filter, filterRef, setFilter] = useStateRef('');
	const [checked, setChecked] = useState(initialChecked);
	const [flash, setFlash] = useState<string>();
	const visible = useMemo(() => filterItems(items, filter), [items, filter]);
	useBackKey(onBack, {
		isActive,
		onEscape() {
			if (filterRef.current === '') {
				return false;
			}

			setFilter('');
			return true;
		},
	});
	useInput((input, key) => {
		if (key.backspace || key.delete) {
			setFilter(filterRef.current.slice(0, -1));
			return;
		}

		if (key.ctrl || key.meta || key.return || input === ' ' || input === '?') {
			return;
		}

		const typed = [...input].filter(character => character > ' ' && character !== '\u007F').join('');
		if (typed) {
			setFilter(filterRef.current + typed);
			setFlash(undefined);
		}
	}, {isActive});

	const names = checked.map(id => items.find(item => item.value === id)?.label ?? id);
	const ownLines = (hostNote ? 1 : 0) + 2 + detailHeight;
	return (
		<Box flexDirection="column">
			{hostNote ? <Text wrap="truncate-end" {...theme.tone('info')}>{hostNote}</Text> : null}
			<Text wrap="truncate-end">
				<Text {...theme.tone('muted')}>filter: </Text>
				{filter}
				{isActive ? <Text inverse> </Text> : null}
				<Text {...theme.tone('muted')}>{filter ? `  ${visible.length} of ${items.length} models` : '  type to filter by name, architecture or sm_XX'}</Text>
			</Text>
			<SelectList
				items={visible}
				initialIndex={Math.max(0, visible.findIndex(item => initialChecked.includes(item.value)))}
				multiple
				initialChecked={initialChecked}
				letterKeys={false}
				limit={Math.max(3, height - ownLines)}
				isActive={isActive}
				emptyText={`no GPU model matches "${filter}"; Backspace or Esc clears the filter`}
				onChange={next => {
					setChecked(next);
					setFlash(undefined);
					onPreview({step: 'gpus', gpus: next});
				}}
				onSubmit={(item, chosen) => {
					if (chosen.length > 0) {
						onAnswer({step: 'gpus', gpus: chosen});
					} else if (item) {
						// Nothing checked: Enter takes the highlighted model.
						onAnswer({step: 'gpus', gpus: [item.value]});
					} else {
						setFlash('check at least one GPU model with Space');
					}
				}}
			/>
			<Text wrap="truncate-end">
				<Text {...theme.tone('muted')}>selected: </Text>
				{names.length > 0 ? names.join(', ') : <Text {...theme.tone('muted')}>none yet (Space checks; Enter alone takes the highlighted one)</Text>}
			</Text>
			<DetailLine flash={flash}/>
		</Box>
	);
}
