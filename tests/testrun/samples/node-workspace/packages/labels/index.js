exports.label = (cents) => `${cents} cents`;
