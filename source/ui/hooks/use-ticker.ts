import {useEffect, useState} from 'react';

/** A counter that ticks every `ms` while active: spinner frames and elapsed times. */
export function useTicker(ms: number, active: boolean): number {
	const [tick, setTick] = useState(0);
	useEffect(() => {
		if (!active) {
			return;
		}

		const timer = setInterval(() => {
			setTick(value => value + 1);
		}, ms);
		return () => {
			clearInterval(timer);
		};
	}, [ms, active]);
	return tick;
}

export const spinnerFrames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
