"""undertow.bench"""
