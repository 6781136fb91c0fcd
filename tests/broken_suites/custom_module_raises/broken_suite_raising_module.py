raise RuntimeError('needs a licence key')
