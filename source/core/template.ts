/** Values install steps and ENV templates may use, as `{{cuda.version}}`. */
export type TemplateValues = Record<string, string | undefined>;

export class TemplateError extends Error {}

const placeholder = /\{\{\s*([a-z0-9_]+(?:\.[a-z0-9_]+)*)(\?)?\s*\}\}/g;

/**
 * Fills `{{name}}` placeholders. A command holding an optional `{{name?}}` whose value is missing
 * is dropped whole (e.g. the cuDNN line of a release without cuDNN); a missing required value is
 * a catalog error naming the field.
 */
export function fillTemplate(text: string, values: TemplateValues, owner: string): string | undefined {
	let skip = false;
	const filled = text.replaceAll(placeholder, (_match, name: string, optional?: string) => {
		const value = values[name];
		if (value === undefined) {
			if (optional) {
				skip = true;
				return '';
			}

			throw new TemplateError(`${owner} uses {{${name}}}, which is not defined here (defined: ${Object.keys(values).filter(key => values[key] !== undefined).sort().join(', ')})`);
		}

		return value;
	});
	return skip ? undefined : filled;
}

export function fillAll(commands: string[], values: TemplateValues, owner: string): string[] {
	return commands.map(command => fillTemplate(command, values, owner)).filter((command): command is string => command !== undefined);
}
