"""undertow.optimizers"""
