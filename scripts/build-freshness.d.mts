export declare const BUILD_OUTPUTS: string[];
export declare const BUILD_INPUTS: string[];
/** True when an output is missing or older than an input (under root). */
export declare function buildIsStale(root: string): boolean;
