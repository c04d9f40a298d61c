export function check({ aspect, text }) {
  switch (aspect) {
    case 'length':
      return text.length;
    case 'words':
      return text.split(/\s+/).filter(Boolean).length;
    case 'questions':
      return (text.match(/\?/g) ?? []).length;
    default:
      throw new Error(`unknown aspect ${aspect}`);
  }
}

export function report({ results }) {
  return { checks: Object.keys(results).length, ...results };
}
