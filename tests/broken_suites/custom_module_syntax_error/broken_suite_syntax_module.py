def answer(example)
    return 'x'
