"""undertow.agents"""
