/**
 * A reader for generated Dockerfiles that follows BuildKit's parser (frontend/dockerfile/parser) where
 * injection could hide: parser directives on the first lines, comment lines, `\` line continuations
 * (comment and blank lines inside them skipped), RUN flags, and heredocs that swallow the lines after
 * an instruction. It is deliberately suspicious: wherever it is unsure it reports more, not less.
 */

export type Instruction = {
	keyword: string;
	/** `--name=value` words at the start of the arguments (RUN --mount=...). */
	flags: string[];
	/** The arguments after the flags, continuation lines joined. */
	body: string;
	/** Names of heredocs the instruction opened (their bodies are consumed). */
	heredocs: string[];
	/** 1-based line of the instruction's first line. */
	line: number;
};

export type ParsedDockerfile = {directives: Record<string, string>; instructions: Instruction[]};

const directivePattern = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const continuation = /\\[ \t]*$/;
const heredocWord = /^(\d*)<<(-?)([^<]*)$/;

const isComment = (line: string) => /^[ \t]*#/.test(line);
const isBlank = (line: string) => /^[ \t]*$/.test(line);

export function parseDockerfile(text: string): ParsedDockerfile {
	// bufio.ScanLines: split on \n, drop one \r before it.
	const lines = text.split('\n').map(line => line.replace(/\r$/, ''));
	const directives: Record<string, string> = {};
	let index = 0;
	while (index < lines.length) {
		const match = directivePattern.exec(lines[index]!);
		if (!match) {
			break;
		}

		directives[match[1]!.toLowerCase()] = match[2]!;
		index++;
	}

	const instructions: Instruction[] = [];
	while (index < lines.length) {
		const first = lines[index]!;
		const line = index + 1;
		index++;
		if (isComment(first) || isBlank(first)) {
			continue;
		}

		let joined = first.trimStart();
		let open = continuation.test(joined);
		joined = joined.replace(continuation, '');
		while (open && index < lines.length) {
			const next = lines[index]!;
			index++;
			if (isComment(next) || isBlank(next)) {
				continue;
			}

			open = continuation.test(next);
			joined += next.replace(continuation, '');
		}

		const keyword = /^\S+/.exec(joined)![0].toUpperCase();
		let rest = joined.slice(keyword.length).trimStart();
		const flags: string[] = [];
		while (/^--\S/.test(rest)) {
			const flag = /^\S+/.exec(rest)![0];
			flags.push(flag);
			rest = rest.slice(flag.length).trimStart();
		}

		const heredocs: string[] = [];
		if (['RUN', 'COPY', 'ADD', 'ONBUILD'].includes(keyword) && !rest.startsWith('[')) {
			for (const word of rest.split(/\s+/)) {
				const match = heredocWord.exec(word);
				const name = match?.[3]?.replaceAll(/["']/g, '');
				if (match && name) {
					heredocs.push(name);
					const chomp = match[2] === '-';
					while (index < lines.length) {
						const body = lines[index]!;
						index++;
						if ((chomp ? body.replace(/^\t+/, '') : body) === name) {
							break;
						}
					}
				}
			}
		}

		instructions.push({keyword, flags, body: rest, heredocs, line});
	}

	return {directives, instructions};
}

/**
 * The `key="value"` pairs of a LABEL or ENV body, values unquoted the way the Dockerfile's shell lexer
 * does it. `expands` is true when a value holds an unescaped `$`, i.e. would be expanded at build time.
 */
export function parsePairs(body: string): Array<{key: string; value: string; expands: boolean}> {
	const pairs: Array<{key: string; value: string; expands: boolean}> = [];
	let position = 0;
	while (position < body.length) {
		while (/\s/.test(body[position] ?? '')) {
			position++;
		}

		if (position >= body.length) {
			break;
		}

		const equals = body.indexOf('=', position);
		if (equals === -1) {
			throw new Error(`not a key=value pair at ${JSON.stringify(body.slice(position))}`);
		}

		const key = body.slice(position, equals);
		if (/\s/.test(key)) {
			throw new Error(`a key with whitespace: ${JSON.stringify(key)}`);
		}

		position = equals + 1;
		let value = '';
		let expands = false;
		let quoted = false;
		while (position < body.length) {
			const character = body[position]!;
			if (!quoted && /\s/.test(character)) {
				break;
			}

			if (character === '"') {
				quoted = !quoted;
				position++;
				continue;
			}

			if (character === '\\' && position + 1 < body.length) {
				value += body[position + 1];
				position += 2;
				continue;
			}

			if (character === '$') {
				expands = true;
			}

			value += character;
			position++;
		}

		if (quoted) {
			throw new Error(`an unterminated quote in ${JSON.stringify(body)}`);
		}

		pairs.push({key, value, expands});
	}

	return pairs;
}

/**
 * Reads an HCL template string the way bake reads every JSON string: `$${` and `%%{` are literal, a
 * bare `${` or `%{` starts an interpolation or directive. Returns the literal text and the expressions.
 */
export function readHclTemplate(text: string): {literal: string; interpolations: string[]} {
	let literal = '';
	const interpolations: string[] = [];
	let position = 0;
	while (position < text.length) {
		if (text.startsWith('$${', position) || text.startsWith('%%{', position)) {
			literal += `${text[position]}{`;
			position += 3;
		} else if (text.startsWith('${', position) || text.startsWith('%{', position)) {
			const end = text.indexOf('}', position);
			interpolations.push(end === -1 ? text.slice(position) : text.slice(position, end + 1));
			literal += '\u0000';
			position = end === -1 ? text.length : end + 1;
		} else {
			literal += text[position];
			position++;
		}
	}

	return {literal, interpolations};
}
