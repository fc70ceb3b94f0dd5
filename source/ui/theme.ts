import {createContext, useContext} from 'react';

/** Semantic text styles; components ask for a tone, never for a colour name. */
export type Tone = 'accent' | 'muted' | 'error' | 'success' | 'warning' | 'heading' | 'selected' | 'info';

export type ToneProps = {color?: string; dimColor?: boolean; bold?: boolean};

export type Theme = {
	/** NO_COLOR is set: no colour and no dimming; state is carried by glyphs and words only. */
	noColor: boolean;
	tone: (tone: Tone) => ToneProps;
	glyph: Glyphs;
};

export type Glyphs = {
	pointer: string;
	checked: string;
	unchecked: string;
	blocked: string;
	ok: string;
	fail: string;
	reused: string;
	dot: string;
};

const glyphs: Glyphs = {pointer: '›', checked: '[x]', unchecked: '[ ]', blocked: '×', ok: '✓', fail: '✗', reused: '↺', dot: '·'};

const colours: Record<Tone, ToneProps> = {
	accent: {color: 'cyan'},
	muted: {dimColor: true},
	error: {color: 'red'},
	success: {color: 'green'},
	warning: {color: 'yellow'},
	heading: {bold: true},
	selected: {color: 'cyan', bold: true},
	info: {color: 'blue'},
};

const plain: Record<Tone, ToneProps> = {
	accent: {},
	muted: {},
	error: {bold: true},
	success: {},
	warning: {bold: true},
	heading: {bold: true},
	selected: {bold: true},
	info: {},
};

export function createTheme(noColor: boolean): Theme {
	const table = noColor ? plain : colours;
	return {noColor, tone: tone => table[tone], glyph: glyphs};
}

/** NO_COLOR (https://no-color.org): present and not empty. */
export const noColorRequested = (env: Record<string, string | undefined>) => Boolean(env['NO_COLOR']);

export const ThemeContext = createContext<Theme>(createTheme(false));

export const useTheme = (): Theme => useContext(ThemeContext);
