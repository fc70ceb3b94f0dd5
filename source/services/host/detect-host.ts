import {parseSmiCsv} from '../../core/host-report.js';
import type {HostFacts} from '../recipe-loader.js';
import {probeGpuRows} from './probe-host.js';
import type {ProbeOptions} from './run-probe.js';

/**
 * What `gpus: [auto]` and `driver: auto` stand for on this host: the distinct GPU names nvidia-smi prints
 * (a MIG-partitioned GPU counts as its parent) and the driver version. No nvidia-smi, a failing one or no
 * GPU give no names and no driver; the recipe loader turns that into a positioned error.
 */
export async function detectHostFacts(options: ProbeOptions = {}): Promise<HostFacts> {
	const {smiQuery, smiLegacyQuery} = await probeGpuRows(options);
	const rows = smiQuery.status === 'ok'
		? parseSmiCsv(smiQuery.stdout, true)
		: smiLegacyQuery?.status === 'ok' ? parseSmiCsv(smiLegacyQuery.stdout, false) : [];
	const driver = rows[0]?.driver;
	return {gpuNames: [...new Set(rows.map(row => row.name))], ...(driver ? {driver} : {})};
}
