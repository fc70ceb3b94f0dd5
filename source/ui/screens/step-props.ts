import type {StepAnswer} from '../../core/wizard-state.js';

/** What the app hands every wizard screen. */
export type StepProps = {
	/** Keys reach the screen only while true. */
	isActive: boolean;
	/** Lines the screen may use, its own headings included. */
	height: number;
	/** Confirms the step; the reducer moves on. */
	onAnswer: (answer: StepAnswer) => void;
	/** The highlighted or half-typed answer, for the live tree only. */
	onPreview: (answer: StepAnswer) => void;
	onBack: () => void;
};
