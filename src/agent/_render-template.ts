/** Fills `{{NAME}}` placeholders; undefined when a referenced entry has no value to give (withheld or absent). */
export function renderTemplate(template: string, lookup: (name: string) => string | null | undefined): string | undefined {
  let missing = false;
  const text = template.replace(/\{\{\s*([^}\s]*)\s*\}\}/g, (_, name: string) => {
    const value = lookup(name);
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : text;
}
