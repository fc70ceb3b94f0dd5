import {Box, Text, useInput} from 'ink';
import {useState} from 'react';
import {defaultOut, defaultRecipeFile, validateOutput, type OutputAnswers} from '../../core/wizard-state.js';
import {TextInput} from '../components/text-input.js';
import {useBackKey} from '../hooks/use-back-key.js';
import {useStateRef} from '../hooks/use-state-ref.js';
import {useTheme} from '../theme.js';
import type {StepProps} from './step-props.js';

export type OutputScreenProps = StepProps & {initial: OutputAnswers};

type Field = keyof OutputAnswers;

const labels: Record<Field, string> = {
	name: 'recipe name',
	registry: 'registry',
	push: 'push tiers',
	out: 'output dir',
	recipeFile: 'recipe file',
};

/** Step 4: recipe name, registry and push, output directory and recipe file, as one short form. */
export function OutputScreen({initial, isActive, onAnswer, onPreview, onBack}: OutputScreenProps) {
	const theme = useTheme();
	const [values, valuesRef, setValues] = useStateRef<OutputAnswers>(initial);
	const [focus, focusRef, setFocus] = useStateRef<Field>('name');
	const [tried, setTried] = useState(false);
	const fieldsOf = (current: OutputAnswers): Field[] => current.registry.trim() === '' ? ['name', 'registry', 'out', 'recipeFile'] : ['name', 'registry', 'push', 'out', 'recipeFile'];
	const fields = fieldsOf(values);
	const problems = validateOutput(values);
	useBackKey(onBack, {isActive});

	const update = (change: Partial<OutputAnswers>) => {
		const next = {...valuesRef.current, ...change};
		setValues(next);
		if (Object.keys(validateOutput(next)).length === 0) {
			onPreview({step: 'output', output: next});
		}
	};

	const move = (delta: number) => {
		const list = fieldsOf(valuesRef.current);
		const index = list.indexOf(focusRef.current);
		setFocus(list[Math.min(list.length - 1, Math.max(0, index + delta))]!);
	};

	const confirm = () => {
		setTried(true);
		const current = valuesRef.current;
		const found = validateOutput(current);
		const first = fieldsOf(current).find(field => found[field]);
		if (first) {
			setFocus(first);
			return;
		}

		onAnswer({step: 'output', output: current});
	};

	useInput((input, key) => {
		if (key.upArrow || (key.tab && key.shift)) {
			move(-1);
		} else if (key.downArrow || key.tab) {
			move(1);
		} else if (key.return) {
			if (focusRef.current === fieldsOf(valuesRef.current).at(-1)) {
				confirm();
			} else {
				move(1);
			}
		} else if (focusRef.current === 'push' && (input === ' ' || input === 'y' || input === 'n')) {
			update({push: input === ' ' ? !valuesRef.current.push : input === 'y'});
		}
	}, {isActive});

	const placeholders: Partial<Record<Field, string>> = {
		registry: 'none (local image store); e.g. registry.example.com/ml',
		out: defaultOut(values.name || 'NAME'),
		recipeFile: defaultRecipeFile(values.name || 'NAME'),
	};

	return (
		<Box flexDirection="column">
			{fields.map(field => {
				const focused = focus === field;
				const problem = problems[field];
				return (
					<Box key={field} flexDirection="column">
						<Text wrap="truncate-end">
							<Text {...(focused ? theme.tone('accent') : {})}>{focused ? `${theme.glyph.pointer} ` : '  '}</Text>
							<Text {...(focused ? theme.tone('selected') : {})}>{labels[field].padEnd(13)}</Text>
							{field === 'push'
								? <Text>{values.push ? `${theme.glyph.checked} yes, push every tier (Space toggles)` : `${theme.glyph.unchecked} no, load into the local image store`}</Text>
								: <TextInput
									value={values[field] as string}
									placeholder={placeholders[field] ?? ''}
									isActive={isActive && focused}
									accept={field === 'name' ? /[a-z0-9-]/ : undefined}
									onChange={value => {
										update({[field]: value});
									}}
								/>}
						</Text>
						{problem && (tried || (values[field] as string) !== '') ? <Text wrap="truncate-end" {...theme.tone('error')}>{`    ${problem}`}</Text> : null}
					</Box>
				);
			})}
			<Text {...theme.tone('muted')}>{focus === fields.at(-1) ? 'Enter: review the tree' : 'Enter: next field'}</Text>
		</Box>
	);
}
