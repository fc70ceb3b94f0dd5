import {useEffect, useState} from 'react';
import type {TierNode} from '../../core/tier-tree.js';
import type {TierPresence} from '../components/tier-tree.js';
import type {WizardServices} from '../services.js';

/**
 * Asks the registry which tier tags exist, once per set of tags; "checking" until it answers,
 * "unknown" when it cannot. Undefined when there is no registry to ask.
 */
export function useRegistryPresence(nodes: readonly TierNode[] | undefined, registry: string, check: WizardServices['checkRegistry']): ReadonlyMap<string, TierPresence> | undefined {
	const key = nodes && registry ? nodes.map(node => node.tag).join('\n') : '';
	const [presence, setPresence] = useState<{key: string; map: ReadonlyMap<string, TierPresence>}>();
	useEffect(() => {
		if (!key || !nodes) {
			return;
		}

		const controller = new AbortController();
		const states = (state: TierPresence) => new Map(nodes.map(node => [node.id, state] as const));
		if (!check) {
			setPresence({key, map: states('unknown')});
			return;
		}

		setPresence({key, map: states('checking')});
		check(registry, nodes, controller.signal).then(found => {
			if (!controller.signal.aborted) {
				setPresence({key, map: new Map(nodes.map(node => [node.id, found.has(node.id) ? 'present' : 'absent'] as const))});
			}
		}, () => {
			if (!controller.signal.aborted) {
				setPresence({key, map: states('unknown')});
			}
		});
		return () => {
			controller.abort();
		};
		// `key` stands for the nodes' tags.
	}, [key, check]);
	return key && presence?.key === key ? presence.map : undefined;
}
