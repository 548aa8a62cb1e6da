"""undertow.engine"""
