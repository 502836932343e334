"""The layers of ``flambeau.nn``: one module per family, PyTorch's class names."""

from .activation import *
from .container import *
from .conv import *
from .distance import *
from .dropout import *
from .fold import *
from .linear import *
from .loss import *
from .module import *
from .normalization import *
from .padding import *
from .pixelshuffle import *
from .pooling import *
from .rnn import *
from .transformer import *
