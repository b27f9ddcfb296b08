"""arXiv: the export API, OAI-PMH, the announcement feeds and the listing schedule."""
