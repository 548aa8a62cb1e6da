"""Maps the repository's code folders onto the `undertow` import namespace.

`engine/` installs as `undertow.engine`, `optimizers/` as `undertow.optimizers`, and so
on; `bench/_root/` is the small top-level `undertow` package (version and
`python -m undertow`, and `undertow.interop`). `py.typed` ships with it (PEP 561). Subpackages are discovered, so new folders need no edit here.
"""

from setuptools import find_packages, setup

ROOTS = ("engine", "optimizers", "agents", "bench")

packages = ["undertow"]
package_dir = {"undertow": "bench/_root"}
for sub in find_packages(where="bench/_root"):  # undertow.interop, ...
    packages.append(f"undertow.{sub}")
    package_dir[f"undertow.{sub}"] = f"bench/_root/{sub.replace('.', '/')}"
for root in ROOTS:
    name = f"undertow.{root}"
    packages.append(name)
    package_dir[name] = root
    for sub in find_packages(where=root, exclude=["_root", "_root.*"]):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{root}/{sub.replace('.', '/')}"

setup(packages=packages, package_dir=package_dir, include_package_data=True,
      package_data={"": ["*.json", "*.md", "*.txt", "*.cu", "*.h", "py.typed"]})
