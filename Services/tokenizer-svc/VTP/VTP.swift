// VTP: the semantic tokenizer (filled in by its owner)
