/** What a recorded value holds where a provider computes it, unknown before `pulumi up` (a preview's unknowns). */
export const COMPUTED = "[computed]";
