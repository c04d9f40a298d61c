const FR = { hello: 'bonjour', cat: 'chat', house: 'maison', water: 'eau' };

export function translate({ word }) {
  return FR[word] ?? word;
}
