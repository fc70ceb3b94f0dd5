import {describe, expect, test} from 'vitest';
import {
	checkImageStart,
	dslCompareVersion,
	envFromList,
	evaluatePredicate,
	goSemverMajorMinor,
	imageRequirements,
	nativeCuda,
	parseDslTerm,
	type RequireHost,
} from '../../source/core/require-cuda.js';

// NVIDIA_REQUIRE_CUDA exactly as NVIDIA's CUDA images set it (gitlab.com/nvidia/container-images/cuda,
// dist/<version>/<os>/base/Dockerfile, amd64 stage).
const official = {
	/** dist/12.4.1/ubuntu2204/base/Dockerfile */
	cuda124: 'cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 brand=nvidia,driver>=470,driver<471 brand=nvidiartx,driver>=470,driver<471 brand=geforce,driver>=470,driver<471 brand=geforcertx,driver>=470,driver<471 brand=quadro,driver>=470,driver<471 brand=quadrortx,driver>=470,driver<471 brand=titan,driver>=470,driver<471 brand=titanrtx,driver>=470,driver<471 brand=tesla,driver>=525,driver<526 brand=unknown,driver>=525,driver<526 brand=nvidia,driver>=525,driver<526 brand=nvidiartx,driver>=525,driver<526 brand=geforce,driver>=525,driver<526 brand=geforcertx,driver>=525,driver<526 brand=quadro,driver>=525,driver<526 brand=quadrortx,driver>=525,driver<526 brand=titan,driver>=525,driver<526 brand=titanrtx,driver>=525,driver<526 brand=tesla,driver>=535,driver<536 brand=unknown,driver>=535,driver<536 brand=nvidia,driver>=535,driver<536 brand=nvidiartx,driver>=535,driver<536 brand=geforce,driver>=535,driver<536 brand=geforcertx,driver>=535,driver<536 brand=quadro,driver>=535,driver<536 brand=quadrortx,driver>=535,driver<536 brand=titan,driver>=535,driver<536 brand=titanrtx,driver>=535,driver<536',
	/** dist/12.1.1/ubuntu2204/base/Dockerfile */
	cuda121: 'cuda>=12.1 brand=tesla,driver>=450,driver<451 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 brand=nvidia,driver>=470,driver<471 brand=nvidiartx,driver>=470,driver<471 brand=geforce,driver>=470,driver<471 brand=geforcertx,driver>=470,driver<471 brand=quadro,driver>=470,driver<471 brand=quadrortx,driver>=470,driver<471 brand=titan,driver>=470,driver<471 brand=titanrtx,driver>=470,driver<471 brand=tesla,driver>=525,driver<526 brand=unknown,driver>=525,driver<526 brand=nvidia,driver>=525,driver<526 brand=nvidiartx,driver>=525,driver<526 brand=geforce,driver>=525,driver<526 brand=geforcertx,driver>=525,driver<526 brand=quadro,driver>=525,driver<526 brand=quadrortx,driver>=525,driver<526 brand=titan,driver>=525,driver<526 brand=titanrtx,driver>=525,driver<526',
	/** dist/11.8.0/ubuntu2204/base/Dockerfile */
	cuda118: 'cuda>=11.8 brand=tesla,driver>=450,driver<451 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 brand=nvidia,driver>=470,driver<471 brand=nvidiartx,driver>=470,driver<471 brand=geforce,driver>=470,driver<471 brand=geforcertx,driver>=470,driver<471 brand=quadro,driver>=470,driver<471 brand=quadrortx,driver>=470,driver<471 brand=titan,driver>=470,driver<471 brand=titanrtx,driver>=470,driver<471',
	/** dist/11.4.3/ubuntu2004/base/Dockerfile */
	cuda114: 'cuda>=11.4',
	/** the CUDA 10.0 images (nvidia/cuda:10.0-base) */
	cuda100: 'cuda>=10.0 brand=tesla,driver>=384,driver<385 brand=tesla,driver>=410,driver<411',
	/** the catalog's CUDA 11.3 entry: a bare driver>=450 clause */
	cuda113: 'cuda>=11.3 brand=tesla,driver>=418,driver<419 driver>=450',
};

const a100 = (brand = 'Nvidia') => ({name: 'NVIDIA A100-SXM4-80GB', arch: '8.0', brand});
const host = (driver: string, cuda: string, ...devices: RequireHost['devices']): RequireHost => ({driver, cuda, devices});
const cudaMessage = (version: string) => `unsatisfied condition: cuda>=${version}, please update your driver to a newer version, or use an earlier cuda container`;

describe('dslCompareVersion (libnvidia-container src/cli/dsl.c)', () => {
	test.each([
		['12.10', '>', '12.4', true],
		['12.4', '=', '12.4.0', true],
		['12.4', '<', '12.4.1', true],
		['12.04', '=', '12.4', true],
		['470.57.02', '>=', '470', true],
		['470.57.02', '<', '471', true],
		['470.57.02', '!=', '470.57.2', false],
		['12..4', '=', '12.4', true],
		['12.', '=', '12', true],
	] as const)('%s %s %s is %s', (actual, op, expected, result) => {
		expect(dslCompareVersion(actual, op, expected)).toBe(result);
	});

	test.each([
		['12.4a', '12.4'],
		['12.4', 'v12.4'],
		['.5', '1'],
		['18446744073709551615', '1'],
	])('%s against %s is an invalid expression', (actual, expected) => {
		expect(dslCompareVersion(actual, '>=', expected)).toBe('invalid');
	});
});

describe('parseDslTerm', () => {
	test('keys are case-insensitive; the operator is the first of =, !=, <, <=, >, >= that starts with the run', () => {
		expect(parseDslTerm('CUDA>=12.4')).toEqual({text: 'CUDA>=12.4', key: 'cuda', op: '>=', value: '12.4'});
		expect(parseDslTerm('brand!tesla')).toEqual({text: 'brand!tesla', key: 'brand', op: '!=', value: 'tesla'});
	});

	test.each(['cuda==12.4', 'cuda=>12.4', 'cuda>=', '>=12.4', 'foo=bar', 'cuda12.4'])('%s is malformed', text => {
		expect(parseDslTerm(text)).toBeUndefined();
	});
});

describe('evaluatePredicate with NVIDIA\'s official strings', () => {
	test('CUDA 12.4 on a 550.54.15 driver (CUDA 12.4): the first clause holds', () => {
		expect(evaluatePredicate(official.cuda124, host('550.54.15', '12.4'), a100())).toEqual({status: 'satisfied', clause: 'cuda>=12.4'});
	});

	test('CUDA 12.4 on an A100 with the 535 LTS driver (CUDA 12.2): forward compatibility through brand=nvidia', () => {
		expect(evaluatePredicate(official.cuda124, host('535.104.05', '12.2'), a100())).toEqual({status: 'satisfied', clause: 'brand=nvidia,driver>=535,driver<536'});
	});

	test('CUDA 12.4 on an A100 with driver 470.103.01 (NVIDIA/CUDALibrarySamples#104): brand=nvidia,driver>=470,driver<471', () => {
		expect(evaluatePredicate(official.cuda124, host('470.103.01', '11.4'), a100())).toEqual({status: 'satisfied', clause: 'brand=nvidia,driver>=470,driver<471'});
	});

	test('a toolkit before 1.9.0 calls the same A100 "Unknown", which the brand=unknown clauses catch', () => {
		expect(evaluatePredicate(official.cuda124, host('470.103.01', '11.4'), a100('Unknown'))).toEqual({status: 'satisfied', clause: 'brand=unknown,driver>=470,driver<471'});
	});

	test('brand comparison ignores case: "Tesla" matches brand=tesla', () => {
		expect(evaluatePredicate(official.cuda121, host('450.203.03', '11.0'), a100('Tesla'))).toEqual({status: 'satisfied', clause: 'brand=tesla,driver>=450,driver<451'});
	});

	test('CUDA 12.1 on driver 450 needs brand Tesla (k8s-device-plugin#343\'s A100 on 450 is Tesla); as Nvidia it is refused', () => {
		const result = evaluatePredicate(official.cuda121, host('450.203.03', '11.0'), a100('Nvidia'));
		expect(result).toMatchObject({status: 'unsatisfied', message: cudaMessage('12.1')});
	});

	test('CUDA 12.4 on a GeForce with driver 545.23.08 (CUDA 12.3): refused with the toolkit\'s message', () => {
		const result = evaluatePredicate(official.cuda124, host('545.23.08', '12.3'), {name: 'NVIDIA GeForce RTX 4070', arch: '8.9', brand: 'GeForce'});
		expect(result).toMatchObject({status: 'unsatisfied', message: cudaMessage('12.4')});
	});

	test('CUDA 11.8 on a GeForce with driver 470.57.02 (CUDA 11.4): brand=geforce,driver>=470,driver<471', () => {
		expect(evaluatePredicate(official.cuda118, host('470.57.02', '11.4'), {name: 'NVIDIA GeForce RTX 3070', arch: '8.6', brand: 'GeForce'}))
			.toEqual({status: 'satisfied', clause: 'brand=geforce,driver>=470,driver<471'});
	});

	test('CUDA 10.0 on a GeForce GTX 1080 with 390.87 (CUDA 9.1, NVIDIA/nvidia-docker#904): refused', () => {
		expect(evaluatePredicate(official.cuda100, host('390.87', '9.1'), {name: 'GeForce GTX 1080 with Max-Q Design', arch: '6.1', brand: 'GeForce'}))
			.toMatchObject({status: 'unsatisfied', message: cudaMessage('10.0')});
	});

	test('CUDA 11.4 without brand clauses on driver 450.80.02 (CUDA 11.0): refused', () => {
		expect(evaluatePredicate(official.cuda114, host('450.80.02', '11.0'), {name: 'Quadro P2200', arch: '6.1', brand: 'Quadro'}))
			.toMatchObject({status: 'unsatisfied', message: cudaMessage('11.4')});
	});

	test('the bare driver>=450 clause of CUDA 11.3 admits any brand', () => {
		expect(evaluatePredicate(official.cuda113, host('450.80.02', '11.0'), {name: 'Quadro P2200', arch: '6.1', brand: 'Quadro'})).toEqual({status: 'satisfied', clause: 'driver>=450'});
	});

	test('an image with only cuda>=12.8 on driver 550.144.03 (CUDA 12.4), as in theroyallab/tabbyAPI#324', () => {
		expect(evaluatePredicate('cuda>=12.8', host('550.144.03', '12.4'), {name: 'GPU', arch: '8.9', brand: 'GeForce'}))
			.toMatchObject({status: 'unsatisfied', message: cudaMessage('12.8')});
	});

	test('on the 535 LTS branch NVIDIA\'s image runs but one with a bare cuda>=12.5 does not (rapidsai/devcontainers#332)', () => {
		const lts = host('535.104.05', '12.2', a100());
		expect(evaluatePredicate('cuda>=12.5', lts, a100()).status).toBe('unsatisfied');
		expect(evaluatePredicate(official.cuda124, lts, a100()).status).toBe('satisfied');
	});

	test('without a visible device brand and arch terms pass, as configure.c assumes', () => {
		expect(evaluatePredicate(official.cuda124, host('535.104.05', '12.2'))).toEqual({status: 'satisfied', clause: 'brand=tesla,driver>=535,driver<536'});
		expect(evaluatePredicate('arch>=9.0', host('535.104.05', '12.2'))).toEqual({status: 'satisfied', clause: 'arch>=9.0'});
	});

	test('the message always names the first clause, whichever clause failed last', () => {
		expect(evaluatePredicate('brand=tesla,driver>=470 cuda>=12.4', host('550.54.15', '12.3'), a100())).toMatchObject({status: 'unsatisfied', message: 'unsatisfied condition: brand=tesla,driver>=470'});
		expect(evaluatePredicate(' cuda>=12.4', host('550.54.15', '12.3'), a100())).toMatchObject({status: 'unsatisfied', message: 'unsatisfied condition: '});
	});

	test('an invalid term counts only when evaluation reaches it', () => {
		const predicate = 'cuda>=12.4 foo=bar';
		expect(evaluatePredicate(predicate, host('550.54.15', '12.4'), a100())).toEqual({status: 'satisfied', clause: 'cuda>=12.4'});
		expect(evaluatePredicate(predicate, host('535.104.05', '12.2'), a100())).toEqual({status: 'invalid', message: 'invalid expression', term: 'foo=bar'});
		expect(evaluatePredicate('brand>=tesla', host('535.104.05', '12.2'), a100())).toEqual({status: 'invalid', message: 'invalid expression', term: 'brand>=tesla'});
	});

	test('an empty predicate holds; "," keeps the previous clause\'s result', () => {
		expect(evaluatePredicate('', host('535.104.05', '12.2'), a100()).status).toBe('satisfied');
		expect(evaluatePredicate('cuda>=12.4 ,', host('535.104.05', '12.2'), a100())).toMatchObject({status: 'unsatisfied'});
	});

	test('an unknown brand decides nothing when the CUDA clause already holds, and leaves it open otherwise', () => {
		const unknownBrand = {name: 'NVIDIA A100-SXM4-80GB', arch: '8.0'};
		expect(evaluatePredicate(official.cuda124, host('550.54.15', '12.4'), unknownBrand).status).toBe('satisfied');
		expect(evaluatePredicate(official.cuda124, host('535.104.05', '12.2'), unknownBrand)).toEqual({status: 'unknown', missing: ['the brand of NVIDIA A100-SXM4-80GB']});
		expect(evaluatePredicate(official.cuda124, host('550.40.07', '12.3'), unknownBrand).status).toBe('unsatisfied');
	});
});

describe('imageRequirements (nvidia-container-toolkit internal/config/image/cuda_image.go)', () => {
	test('every NVIDIA_REQUIRE_* except NVIDIA_REQUIRE_JETPACK*, in name order', () => {
		expect(imageRequirements({NVIDIA_REQUIRE_CUDA: 'cuda>=12.4', NVIDIA_REQUIRE_ARCH: 'arch>=8.0', NVIDIA_REQUIRE_JETPACK: 'csv-mounts=all', CUDA_VERSION: '12.4.1'})).toEqual({
			disabled: false,
			requirements: [{source: 'NVIDIA_REQUIRE_ARCH', value: 'arch>=8.0'}, {source: 'NVIDIA_REQUIRE_CUDA', value: 'cuda>=12.4'}],
		});
	});

	test.each([
		['12.4.1', 'cuda>=12.4'],
		['v11.8.0', 'cuda>=11.8'],
		['12', 'cuda>=12.0'],
		['12.4.1-1+b2', 'cuda>=12.4'],
	])('a legacy image with CUDA_VERSION=%s and no NVIDIA_REQUIRE_CUDA requires %s', (version, requirement) => {
		expect(imageRequirements({CUDA_VERSION: version})).toEqual({disabled: false, requirements: [{source: `CUDA_VERSION=${version} (legacy image)`, value: requirement}]});
	});

	test.each(['12.04.1', '12.4.1.1', 'latest', '12.4.1-01'])('CUDA_VERSION=%s is not semver: the hook cannot start the container', version => {
		expect(imageRequirements({CUDA_VERSION: version})).toEqual({disabled: false, requirements: [], error: 'failed to get version: invalid CUDA version: invalid version string'});
	});

	test('an empty NVIDIA_REQUIRE_CUDA is still legacy and still passed on (empty, so it holds)', () => {
		expect(imageRequirements({CUDA_VERSION: '11.8.0', NVIDIA_REQUIRE_CUDA: ''})).toEqual({
			disabled: false,
			requirements: [{source: 'NVIDIA_REQUIRE_CUDA', value: ''}, {source: 'CUDA_VERSION=11.8.0 (legacy image)', value: 'cuda>=11.8'}],
		});
	});

	test.each([['true', true], ['1', true], ['T', true], ['True', true], ['yes', false], ['false', false], ['', false]])('NVIDIA_DISABLE_REQUIRE=%s disables: %s', (value, disabled) => {
		expect(imageRequirements({NVIDIA_DISABLE_REQUIRE: value, NVIDIA_REQUIRE_CUDA: 'cuda>=99.0'}).disabled).toBe(disabled);
	});

	test('goSemverMajorMinor follows golang.org/x/mod/semver', () => {
		expect(goSemverMajorMinor('12.4')).toBe('12.4');
		expect(goSemverMajorMinor('12.4-rc1')).toBeUndefined();
		expect(goSemverMajorMinor('12.4.1-rc.1')).toBe('12.4');
		expect(goSemverMajorMinor('4294967296.0')).toBeUndefined();
	});

	test('envFromList keeps the last value of a name, like the toolkit\'s map', () => {
		expect(envFromList(['A=1', 'B=x=y', 'A=2', 'BROKEN'])).toEqual({A: '2', B: 'x=y'});
	});
});

describe('checkImageStart', () => {
	test('an image that runs says which requirement held where', () => {
		expect(checkImageStart({NVIDIA_REQUIRE_CUDA: official.cuda124}, host('535.104.05', '12.2', a100()))).toEqual({
			status: 'runs',
			detail: 'NVIDIA_REQUIRE_CUDA satisfied by driver 535.104.05 (CUDA 12.2) on NVIDIA A100-SXM4-80GB (sm_80)',
		});
	});

	test('a refused image gets nvidia-container-cli\'s message and why, clause family by clause family', () => {
		const geforce = {name: 'NVIDIA GeForce RTX 4070', arch: '8.9', brand: 'GeForce'};
		expect(checkImageStart({NVIDIA_REQUIRE_CUDA: official.cuda124, CUDA_VERSION: '12.4.1'}, host('550.40.07', '12.3', geforce))).toEqual({
			status: 'refused',
			message: `requirement error: ${cudaMessage('12.4')}`,
			source: 'NVIDIA_REQUIRE_CUDA',
			reasons: [
				'cuda>=12.4: this driver (550.40.07) supports CUDA 12.3',
				'clauses for brand GeForce allow only driver>=470,driver<471 or driver>=525,driver<526 or driver>=535,driver<536; this host has driver 550.40.07',
				'27 other clauses name other brands (tesla, unknown, nvidia, nvidiartx, geforcertx, quadro, ...)',
			],
		});
	});

	test('each GPU is checked: one V100 among A100s refuses arch>=8.0', () => {
		const v100 = {name: 'Tesla V100-SXM2-16GB', arch: '7.0', brand: 'Tesla'};
		expect(checkImageStart({NVIDIA_REQUIRE_ARCH: 'arch>=8.0'}, host('535.104.05', '12.2', a100(), v100))).toEqual({
			status: 'refused',
			message: 'requirement error: unsatisfied condition: arch>=8.0',
			source: 'NVIDIA_REQUIRE_ARCH',
			reasons: ['arch>=8.0: Tesla V100-SXM2-16GB (sm_70) has compute capability 7.0'],
		});
	});

	test('no driver: --gpus fails before any requirement is read', () => {
		expect(checkImageStart({NVIDIA_REQUIRE_CUDA: 'cuda>=12.4'}, {devices: []})).toEqual({
			status: 'no-driver',
			detail: 'no NVIDIA driver on this host: `docker run --gpus` fails before any requirement is checked; the image can only run without --gpus',
		});
	});

	test('NVIDIA_DISABLE_REQUIRE skips the check, even on a driver far too old', () => {
		expect(checkImageStart({NVIDIA_REQUIRE_CUDA: 'cuda>=13.0', NVIDIA_DISABLE_REQUIRE: 'true'}, host('470.57.02', '11.4', a100()))).toEqual({
			status: 'not-checked',
			detail: 'NVIDIA_DISABLE_REQUIRE=true: the toolkit skips the requirement check',
		});
	});

	test('a legacy image is held to cuda>=MAJOR.MINOR of CUDA_VERSION', () => {
		expect(checkImageStart({CUDA_VERSION: '12.4.1'}, host('535.104.05', '12.2', a100()))).toMatchObject({status: 'refused', message: `requirement error: ${cudaMessage('12.4')}`, source: 'CUDA_VERSION=12.4.1 (legacy image)'});
	});

	test('an invalid expression that evaluation reaches refuses the container', () => {
		expect(checkImageStart({NVIDIA_REQUIRE_CUDA: 'cuda>=12.4 driver>=abc'}, host('535.104.05', '12.2', a100()))).toMatchObject({status: 'refused', message: 'requirement error: invalid expression'});
	});

	test('an image without requirements or CUDA_VERSION always passes', () => {
		expect(checkImageStart({PATH: '/usr/bin'}, host('535.104.05', '12.2', a100())).status).toBe('runs');
	});
});

test('nativeCuda: the newest release whose minimum driver is met, as MAJOR.MINOR', () => {
	const releases = [
		{version: '12.4.1', min_driver: '550.54.15'},
		{version: '12.2.2', min_driver: '535.104.05'},
		{version: '12.1.1', min_driver: '530.30.02'},
		{version: '11.8.0'},
	];
	expect(nativeCuda(releases, '535.104.05')).toBe('12.2');
	expect(nativeCuda(releases, '550.40.07')).toBe('12.2');
	expect(nativeCuda(releases, '470.57.02')).toBeUndefined();
});
