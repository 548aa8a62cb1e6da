"""Vocabulary for word sorting: common English words, many sharing first letters and
prefixes so that sorting by the first letter alone is usually wrong."""

_TEXT = """
abacus abandon abide ability absent absorb abstract accent accept access accord
acorn acrobat actual adapt adobe advent aerial afford agenda agile airport alarm
album alcove alder algebra alien almond alpine amber ambush amend anchor ancient
angle ankle antler anvil apple apricot april arbor arcade archer arctic argue
armada armor arrow artery asphalt aspen atlas attic auburn august autumn avenue
badge bagel bakery balcony ballad bamboo banjo banner barley barn baron basalt basin
basket beacon beagle beaver bellow bench berry bicycle bishop bison blanket blossom
bonfire border boulder bracket breeze bridle brisk bronze bucket buffalo bugle
cabin cactus camel canal candle canopy canvas canyon carbon cargo carpet castle
cedar cellar census chalk channel chapel cherry chisel cider cinder circus citadel
clover cobalt comet compass copper coral cotton cradle crater crimson crystal
damp dancer dapple dawn debris decade decoy delta denim desert dial diamond digit
dinghy dipper docket dolphin domain donkey dragon drizzle drumhead dune dusk dwell
eagle easel eclipse eddy elbow elder ember emblem empire enamel engine envoy epoch
equator errand estuary ethic evening falcon fable fabric faucet feather fennel
ferry fiddle figment filbert fjord flagon flannel fleet flint forest fossil foyer
fragment freckle frigate fulcrum gable galaxy gallop garnet gazebo gecko geyser
ginger glacier glimmer goblet gondola gopher gossamer granite gravel griddle grotto
guild gully habit halibut hamlet hammock harbor harness harvest hazel heron hickory
hinge hollow hornet humble husk iceberg idiom igloo impulse inkwell inlet iris
island ivory jacket jasmine javelin jester jigsaw jonquil journey jubilee juniper
kayak kennel kernel kettle kindle kiosk kitten knapsack knoll ladder lagoon lantern
larch lattice lavender ledger lemon lentil lilac linen lobster locket lumber
magnet mallet mango manor maple marble marsh meadow mellow mesa meteor midnight
mildew mitten molten monsoon mosaic muffin mustard napkin nectar needle nestle
nickel nimble nomad noodle nugget nutmeg oasis oatmeal obelisk ocean octave olive
onyx opal orbit orchard otter outpost oyster paddle pagoda palette parcel parsley
pebble pelican pepper pewter pillar pinnacle pistol plaza pollen poplar portal
prism pumpkin quarry quartz quill quiver rabbit radish raft rapids raven reef
relic ribbon ridge ripple river rocket rustle saddle saffron salmon sandal sapphire
scarlet schooner scroll sequoia shadow shovel signal silver skillet slate sonnet
spindle spruce summit syndrome tablet talon tangle tavern teapot tempest thicket
thimble thistle thrill timber topaz torrent tundra tunnel turnip umber umbrella
unicorn upland urchin valley velvet venom verdant vessel villa violet vortex
wafer walnut walrus warble willow window winter wizard yarrow yodel zephyr zinnia
"""

WORDS: tuple[str, ...] = tuple(sorted(set(_TEXT.split())))
