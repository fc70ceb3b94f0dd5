import {useEffect, useState} from 'react';
import type {WizardServices} from '../services.js';

/** Whether something is at `file` already, asked once per file name; undefined until known or when not asked. */
export function useFileExists(file: string | undefined, exists: WizardServices['fileExists']): boolean | undefined {
	const [answer, setAnswer] = useState<{file: string; exists: boolean}>();
	useEffect(() => {
		if (!file || !exists) {
			return;
		}

		let current = true;
		void exists(file).then(found => {
			if (current) {
				setAnswer({file, exists: found});
			}
		}, () => undefined);
		return () => {
			current = false;
		};
	}, [file, exists]);
	return file && answer?.file === file ? answer.exists : undefined;
}
